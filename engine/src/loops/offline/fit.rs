//! Training an entry as a node of the running graph, and journaling what came of it.

use super::*;

impl Loop {
    /// Trains an entry as a node of the running graph and journals the result.
    pub(super) async fn train(&mut self, ctx: &StepContext, entry: Entry, name: &str) -> Result<Entry, StepError> {
        let (entry, status) = self.fit(ctx, entry, name).await?;
        self.record(ctx, entry.record.clone(), status, entry.record.reason.clone())?;
        self.entries.push(entry.clone());
        Ok(entry)
    }

    /// Trains an entry as a node of the running graph: the entry with its score, and its status.
    pub(super) async fn fit(
        &self,
        ctx: &StepContext,
        entry: Entry,
        name: &str,
    ) -> Result<(Entry, ExperimentStatus), StepError> {
        self.fit_with_seed(ctx, entry, name, self.args.settings.seed).await
    }

    /// [`Loop::fit`] with another training seed (the confirmation of a result on more seeds).
    pub(super) async fn fit_with_seed(
        &self,
        ctx: &StepContext,
        entry: Entry,
        name: &str,
        seed: i64,
    ) -> Result<(Entry, ExperimentStatus), StepError> {
        let (args, inputs) = self.candidate_call(ctx, &entry, seed);
        let artifact = ctx.spawner.run(name, CANDIDATE_STEP, args, inputs).await?;
        self.read_fit(entry, name, &artifact)
    }

    /// Trains entries side by side, each as a node of the running graph (on a cluster, each a
    /// job), and journals them in the order given: the journal reads as if they ran in turn.
    pub(super) async fn train_all(
        &mut self,
        ctx: &StepContext,
        batch: Vec<(Entry, String)>,
    ) -> Result<Vec<Entry>, StepError> {
        let seed = self.args.settings.seed;
        let items = batch.into_iter().map(|(entry, name)| (entry, name, seed)).collect();
        let mut trained = Vec::new();
        for (entry, status) in self.fit_many(ctx, items).await? {
            self.record(ctx, entry.record.clone(), status, entry.record.reason.clone())?;
            self.entries.push(entry.clone());
            trained.push(entry);
        }
        Ok(trained)
    }

    /// [`Loop::fit_with_seed`] for each `(entry, node name, seed)`: all at once when their nodes
    /// go to a cluster (its limit on jobs in flight applies), one after another otherwise.
    /// The answers come in the order asked.
    pub(super) async fn fit_many(
        &self,
        ctx: &StepContext,
        items: Vec<(Entry, String, i64)>,
    ) -> Result<Vec<(Entry, ExperimentStatus)>, StepError> {
        if self.width(ctx) <= 1 {
            let mut fitted = Vec::with_capacity(items.len());
            for (entry, name, seed) in items {
                fitted.push(self.fit_with_seed(ctx, entry, &name, seed).await?);
            }
            return Ok(fitted);
        }
        let mut jobs = tokio::task::JoinSet::new();
        for (i, (entry, name, seed)) in items.iter().enumerate() {
            let (args, inputs) = self.candidate_call(ctx, entry, *seed);
            let (spawner, name) = (ctx.spawner.clone(), name.clone());
            jobs.spawn(async move { (i, spawner.run(&name, CANDIDATE_STEP, args, inputs).await) });
        }
        let mut artifacts: Vec<Option<Result<Artifact, StepError>>> = (0..items.len()).map(|_| None).collect();
        while let Some(joined) = jobs.join_next().await {
            let (i, artifact) = joined.map_err(|e| {
                StepError::permanent(StepErrorKind::Internal, format!("a candidate's task failed: {e}"))
            })?;
            artifacts[i] = Some(artifact);
        }
        items
            .into_iter()
            .zip(artifacts)
            .map(|((entry, name, _), artifact)| self.read_fit(entry, &name, &artifact.expect("every task answered")?))
            .collect()
    }

    /// The arguments and inputs of the node that trains `entry` with `seed`.
    fn candidate_call(
        &self,
        ctx: &StepContext,
        entry: &Entry,
        seed: i64,
    ) -> (indexmap::IndexMap<String, Value>, HashMap<String, Artifact>) {
        let run = &ctx.run;
        let source = entry.source.clone().unwrap_or_default();
        let settings = Settings { seed, ..self.args.settings.clone() };
        let args = candidate::args(&run.workflow, &run.overrides, &source, &entry.blocks, &self.args.data, &settings);
        let inputs = HashMap::from([(self.args.data.clone(), self.split.clone())]);
        (args, inputs)
    }

    /// How many candidates may train at once: the cluster's jobs in flight when they go there,
    /// otherwise one (they share the loop's resource units).
    pub(super) fn width(&self, ctx: &StepContext) -> usize {
        let (args, _) = self.candidate_call(ctx, &self.parent.entry, self.args.settings.seed);
        ctx.spawner.parallelism(CANDIDATE_STEP, &args)
    }

    /// What came of training `entry` as the node `name`: the entry with its score, and its status.
    fn read_fit(
        &self,
        mut entry: Entry,
        name: &str,
        artifact: &Artifact,
    ) -> Result<(Entry, ExperimentStatus), StepError> {
        let meta = &artifact.meta;
        let report = TrainReport::from_meta(meta);
        let (status, reason) = if let Some(reason) = meta.get("reason").and_then(|r| r.as_str()) {
            (ExperimentStatus::Failed, Some(reason.to_string()))
        } else if let Some(report) = report {
            let mut metrics = serde_json::json!({
                "valid": report.valid.values,
                "test": report.test.values,
                "protocol": report.valid.protocol,
            });
            // What the held-out positives were: clicks, or the loop's judge.
            if !report.data.truth.is_empty() {
                metrics["protocol"]["positives"] = serde_json::json!(report.data.truth);
            }
            if let Some(rate) = report.clip_rate {
                metrics["clip_rate"] = serde_json::json!(rate);
            }
            entry.record.offline_metrics = Some(metrics);
            entry.record.offline_score = report.valid_metric(self.args.settings.metric);
            entry.record.test_score = report.test_metric(self.args.settings.metric);
            entry.record.cost = Some(serde_json::json!({
                "params": report.summary.params,
                "flops": report.summary.flops,
                "train_seconds": report.wall_seconds,
            }));
            entry.checkpoint = Some(artifact.hash.clone());
            let params = report.summary.params;
            match self.args.max_params.filter(|limit| params > *limit) {
                Some(limit) => {
                    (ExperimentStatus::Rejected, Some(format!("cost: {params} parameters exceed the limit of {limit}")))
                }
                // A candidate is ranked by its score: one without it must say so, not vanish.
                None if entry.record.offline_score.is_none() => (
                    ExperimentStatus::Failed,
                    Some(format!("its validation metrics have no `{}`", self.args.settings.metric)),
                ),
                None => (ExperimentStatus::Trained, None),
            }
        } else {
            return Err(StepError::permanent(
                StepErrorKind::Internal,
                format!("the output of `{name}` is not a training report: {meta}"),
            ));
        };
        entry.record.status = status;
        entry.record.reason = reason;
        Ok((entry, status))
    }

    /// Journals an experiment and adds it to the history agents see.
    pub(super) fn record(
        &mut self,
        ctx: &StepContext,
        mut record: ExperimentRecord,
        status: ExperimentStatus,
        reason: Option<String>,
    ) -> Result<(), StepError> {
        record.status = status;
        record.reason = reason;
        *self.counts.entry(status.as_str()).or_default() += 1;
        self.seen.insert(record.key.clone());
        let metric = self.args.settings.metric.to_string();
        self.history.push(history_entry(&record, &metric, &self.tag, self.history.len()));
        ctx.run.journal.record_experiment(record).map_err(|e| StepError::transient(StepErrorKind::Journal, e))
    }

    /// Journals a proposal that never reached training.
    pub(super) fn reject(
        &mut self,
        ctx: &StepContext,
        record: ExperimentRecord,
        status: ExperimentStatus,
        reason: String,
    ) -> Result<(), StepError> {
        let mut entry =
            Entry { record: record.clone(), source: None, blocks: self.args.blocks.clone(), checkpoint: None };
        (entry.record.status, entry.record.reason) = (status, Some(reason.clone()));
        self.entries.push(entry);
        self.record(ctx, record, status, Some(reason))
    }
}
