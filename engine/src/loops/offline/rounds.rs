//! The rounds: listed variants, then persona turns (propose, verify, dedupe, cost check,
//! screen, train), and the warm start between rounds.

use super::*;

impl Loop {
    /// Trains the variants listed in `candidates:` as explore entries with operator `given`:
    /// the baseline's source with other blocks named (a reward, a model...), so a chosen set of
    /// variants can reach the slow loop side by side. They do not count against the budget.
    pub(super) async fn given(&mut self, ctx: &StepContext) -> Result<(), StepError> {
        let parent = self.parent.entry.clone();
        let source = parent.source.clone().unwrap_or_default();
        // (entry, node name, journaled by an earlier run), trained side by side on a cluster.
        let mut listed: Vec<(Entry, String, bool)> = Vec::new();
        for blocks in self.args.given.clone() {
            if blocks == self.args.blocks {
                *self.counts.entry("duplicate").or_default() += 1;
                continue;
            }
            let named = format!(
                "model {}, optimizer {}, reward {}",
                blocks.model,
                blocks.optimizer.as_deref().unwrap_or("-"),
                blocks.reward.as_deref().unwrap_or("-")
            );
            let key = ExperimentKey::Given { source: &source, named: &named }.with(&self.tag);
            let listed_before = listed.iter().any(|(e, ..)| e.record.key == key);
            if listed_before || self.entries.iter().any(|e| e.record.key == key) {
                *self.counts.entry("duplicate").or_default() += 1;
                continue;
            }
            let record = ExperimentRecord {
                key: key.clone(),
                run_id: Some(ctx.run.run_id),
                parent: Some(parent.record.key.clone()),
                round: Some(0),
                kind: Some(ProposalKind::Explore.as_str().into()),
                operator: Some("given".into()),
                explanation: Some(format!("listed in `candidates:` ({named})")),
                program_hash: Some(blake3::hash(source.as_bytes()).to_hex()[..32].to_string()),
                ..Default::default()
            };
            let entry = Entry { record, source: parent.source.clone(), blocks, checkpoint: None };
            let name = format!("given-{}", short(&key["given-".len()..]));
            listed.push((entry, name, self.seen.contains(&key)));
        }
        let seed = self.args.settings.seed;
        let items = listed.iter().map(|(entry, name, _)| (entry.clone(), name.clone(), seed)).collect();
        let fitted = self.fit_many(ctx, items).await?;
        for ((entry, status), (.., seen)) in fitted.into_iter().zip(listed) {
            if seen {
                // Journaled by an earlier run, maybe decided online since: its row stays as it
                // is, and the slow loop's selection skips what it decided.
                *self.counts.entry("again").or_default() += 1;
            } else {
                self.record(ctx, entry.record.clone(), status, entry.record.reason.clone())?;
            }
            self.entries.push(entry);
        }
        Ok(())
    }

    /// The rounds, until the budget, the wall time or the rounds run out.
    pub(super) async fn rounds(&mut self, ctx: &StepContext) -> Result<(), StepError> {
        for round in 1..=self.args.rounds {
            for p in 0..self.personas.len() {
                if self.exhausted() {
                    return Ok(());
                }
                let persona = self.personas[p].clone();
                // Turns take the round's parents in turn, so proposals spread over all of them.
                self.parent = self.parents[self.turns % self.parents.len()].clone();
                self.turns += 1;
                let (since, journaled) = (journal::now_micros(), self.history.len());
                let proposals = self.propose(&persona);
                if proposals.is_empty() {
                    self.silent.push(format!("round {round}: {}", persona.name));
                }
                let mut stop = false;
                if let Agent::Llm(llm) = &mut self.agent {
                    if let Some(error) = llm.last_error.take() {
                        stop = matches!(error, llm::Error::Budget(_));
                        self.llm_failed(ctx, round, &persona, &error)?;
                    }
                }
                let width = self.width(ctx);
                if width <= 1 {
                    for proposal in proposals {
                        if self.exhausted() {
                            break;
                        }
                        self.evaluate(ctx, round, &persona, proposal).await?;
                    }
                } else {
                    self.evaluate_side_by_side(ctx, round, &persona, proposals, width).await?;
                }
                self.link_calls(ctx, &persona, journaled, since)?;
                if stop || self.exhausted() {
                    return Ok(());
                }
            }
            self.warm_start();
        }
        Ok(())
    }

    /// Links the LLM and tool calls of this turn's request to the first experiment it produced
    /// (the request's other experiments share its run, round and persona).
    fn link_calls(&self, ctx: &StepContext, persona: &Persona, journaled: usize, since: i64) -> Result<(), StepError> {
        let (Agent::Llm(_), Some(first)) = (&self.agent, self.history.get(journaled)) else { return Ok(()) };
        ctx.run
            .journal
            .link_calls(&first.id, &persona.name, since)
            .map_err(|e| StepError::transient(StepErrorKind::Journal, e))
    }

    pub(super) fn exhausted(&self) -> bool {
        self.trained >= self.args.budget
            || (self.args.wall_ms > 0 && self.started.elapsed().as_millis() as u64 >= self.args.wall_ms)
    }

    pub(super) fn propose(&mut self, persona: &Persona) -> Vec<Proposal> {
        let request =
            ProposalRequest { persona, baseline: &self.parent.program, history: &self.history, quota: self.args.quota };
        // Proposing compiles every candidate (and may wait on an LLM): kept off the async workers.
        tokio::task::block_in_place(|| self.agent.proposer().propose(&request))
    }

    /// Journals an LLM turn that produced no proposal (malformed after repair, HTTP errors, the
    /// budget) as a failed proposal.
    pub(super) fn llm_failed(
        &mut self,
        ctx: &StepContext,
        round: usize,
        persona: &Persona,
        error: &llm::Error,
    ) -> Result<(), StepError> {
        let text = error.to_string();
        let record = ExperimentRecord {
            key: ExperimentKey::LlmFailed { round, persona: &persona.name, error: &text }.with(&self.tag),
            run_id: Some(ctx.run.run_id),
            parent: Some(self.parent.entry.record.key.clone()),
            round: Some(round as i64),
            persona: Some(persona.name.clone()),
            operator: Some("llm".into()),
            ..Default::default()
        };
        self.reject(ctx, record, ExperimentStatus::Failed, format!("llm: {text}"))
    }

    /// One proposal, from Verify to its score.
    pub(super) async fn evaluate(
        &mut self,
        ctx: &StepContext,
        round: usize,
        persona: &Persona,
        proposal: Proposal,
    ) -> Result<(), StepError> {
        let Some(admitted) = self.admit(ctx, round, persona, proposal).await? else { return Ok(()) };
        let entry = self.train(ctx, admitted.entry.clone(), &admitted.name).await?;
        self.observed(admitted, &entry);
        Ok(())
    }

    /// The proposals of a turn, trained `width` at a time (as cluster jobs), journaled and
    /// observed in the order they were proposed.
    async fn evaluate_side_by_side(
        &mut self,
        ctx: &StepContext,
        round: usize,
        persona: &Persona,
        proposals: Vec<Proposal>,
        width: usize,
    ) -> Result<(), StepError> {
        let mut proposals = proposals.into_iter();
        loop {
            if self.exhausted() {
                return Ok(());
            }
            let room = width.min(self.args.budget.saturating_sub(self.trained));
            let mut batch: Vec<Admitted> = Vec::new();
            while batch.len() < room {
                let Some(proposal) = proposals.next() else { break };
                let Some(admitted) = self.admit(ctx, round, persona, proposal).await? else { continue };
                // Two proposals of one batch with the same effect: the first trains.
                if batch.iter().any(|b| b.entry.record.key == admitted.entry.record.key) {
                    *self.counts.entry("duplicate").or_default() += 1;
                    continue;
                }
                batch.push(admitted);
            }
            if batch.is_empty() {
                return Ok(());
            }
            let entries = batch.iter().map(|a| (a.entry.clone(), a.name.clone())).collect();
            let trained = self.train_all(ctx, entries).await?;
            for (admitted, entry) in batch.into_iter().zip(trained) {
                self.observed(admitted, &entry);
            }
        }
    }

    /// A trained proposal counts against the budget, and its agent learns how it did.
    fn observed(&mut self, admitted: Admitted, entry: &Entry) {
        self.trained += 1;
        let improvement = match (entry.record.offline_score, self.parent.entry.record.offline_score) {
            (Some(score), Some(parent)) => Some(score - parent),
            _ => None,
        };
        self.agent.proposer().observe(&Outcome {
            key: admitted.key,
            persona: admitted.persona,
            operator: admitted.operator,
            improvement,
            status: entry.record.status.to_string(),
        });
    }

    /// A proposal through Verify, dedupe, the cost limits and the `compute_loss` screen: the
    /// entry to train, or `None` when it was journaled as rejected (or was a duplicate).
    async fn admit(
        &mut self,
        ctx: &StepContext,
        round: usize,
        persona: &Persona,
        proposal: Proposal,
    ) -> Result<Option<Admitted>, StepError> {
        let delta = serde_json::to_value(&proposal.delta).unwrap_or_default();
        let mut record = ExperimentRecord {
            run_id: Some(ctx.run.run_id),
            parent: Some(self.parent.entry.record.key.clone()),
            round: Some(round as i64),
            persona: Some(persona.name.clone()),
            kind: Some(proposal.kind.as_str().into()),
            operator: Some(proposal.operator.clone()),
            explanation: Some(proposal.explanation.clone()),
            delta: Some(delta.clone()),
            ..Default::default()
        };
        let candidate = match tokio::task::block_in_place(|| apply_as(&self.parent.program, persona, &proposal.delta)) {
            Ok(candidate) => candidate,
            Err(e) => {
                record.key = ExperimentKey::Rejected { delta: &delta }.with(&self.tag);
                let reason = format!("{}: {}", e.kind.as_str(), e.message);
                return self.reject(ctx, record, ExperimentStatus::Rejected, reason).map(|()| None);
            }
        };
        record.key = ExperimentKey::Proposal { delta: &candidate.key }.with(&self.tag);
        let blocks = blocks_in(&candidate.program, &self.parent.entry.blocks);
        record.program_hash = Some(blake3::hash(candidate.source.as_bytes()).to_hex()[..32].to_string());
        if self.seen.contains(&record.key) {
            *self.counts.entry("duplicate").or_default() += 1;
            return Ok(None);
        }
        let model = candidate.program.models.get(&blocks.model);
        let flops = model.map(|m| m.flops_per_example()).unwrap_or(0);
        record.cost = Some(serde_json::json!({ "flops": flops }));
        if let Some(limit) = self.args.max_flops.filter(|l| flops as i64 > *l) {
            let reason = format!("cost: {flops} FLOPs per example exceeds the limit of {limit}");
            return self.reject(ctx, record, ExperimentStatus::Rejected, reason).map(|()| None);
        }
        if persona.tools.iter().any(|t| t == "compute_loss") {
            if let Err(failure) = self.screen(&candidate.program, &blocks).await {
                let reason = format!("compute_loss: {failure}");
                return self.reject(ctx, record, ExperimentStatus::Failed, reason).map(|()| None);
            }
        }
        let entry = Entry { record, source: Some(candidate.source.clone()), blocks, checkpoint: None };
        Ok(Some(Admitted {
            entry,
            name: format!("r{round}-{}", short(&candidate.key.0)),
            key: candidate.key.clone(),
            persona: persona.name.clone(),
            operator: proposal.operator.clone(),
        }))
    }

    /// A short `compute_loss` run: a candidate whose loss diverges is not worth a training.
    pub(super) async fn screen(&self, program: &dsl::Program, blocks: &Blocks) -> Result<(), TrainFailure> {
        let mut req = TrainRequest::new(Arc::new(program.clone()), &blocks.model, self.split.dir.clone());
        if let Some(o) = &blocks.optimizer {
            req.optimizer = Value::Optimizer(o.clone());
        }
        req.reward = blocks.reward.clone();
        req.seed = self.args.seed;
        req.metric = self.args.settings.metric;
        req.scratch = self.scratch.clone();
        req.loss = self.args.settings.loss.clone();
        req.batch = self.args.settings.batch.max(1) as usize;
        req.device = self.args.settings.device.clone();
        let probe = tokio::task::spawn_blocking(move || compute_loss(&req, 20, 0, 20_000))
            .await
            .map_err(|e| TrainFailure::Internal(e.to_string()))??;
        if probe.curve.iter().chain([&probe.valid_loss]).any(|l| !l.is_finite()) {
            return Err(TrainFailure::Diverged { epoch: 1 });
        }
        Ok(())
    }

    /// The next round starts from the best `warm_start` candidates trained so far (the paper's
    /// warm start from the top K), each a parent in turn; with none better than the baseline,
    /// from the baseline still.
    pub(super) fn warm_start(&mut self) {
        // Random search draws from the baseline every round: that is what makes it the control.
        if self.args.warm_start == 0 || self.args.random {
            return;
        }
        let mut ranked: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.record.status == ExperimentStatus::Trained && e.source.is_some())
            .collect();
        // Stable: ties keep the order they were trained in, so a re-run picks the same parents.
        ranked.sort_by(|a, b| {
            b.record.offline_score.partial_cmp(&a.record.offline_score).unwrap_or(std::cmp::Ordering::Equal)
        });
        let root = self.parents[0].program.clone();
        let mut parents = Vec::new();
        for best in ranked.into_iter().take(self.args.warm_start) {
            let built = Baseline::new(
                &root.path,
                best.source.clone().unwrap_or_default(),
                Arc::new(FsLoader),
                root.overrides.clone(),
            );
            if let Ok(next) = built {
                let next = next.with_blocks(root.model.as_deref(), root.optimizer.as_deref(), root.reward.as_deref());
                parents.push(Parent { program: next, entry: best.clone() });
            }
        }
        if !parents.is_empty() {
            self.parents = parents;
            self.turns = 0;
        }
    }
}

/// A proposal ready to train.
struct Admitted {
    entry: Entry,
    /// Its node's name under the loop.
    name: String,
    key: agents::DeltaKey,
    persona: String,
    operator: String,
}
