//! The canonical layout of `.evo` source: `evoflow fmt`. Keeps comments (a comment inside an
//! expression moves to the line above its statement), keeps single blank lines between
//! statements, prints literals as written, and breaks calls, lists and records that do not fit
//! in 100 columns one item per line. Idempotent: formatting formatted code changes nothing.

use crate::ast::*;
use crate::span::{SourceMap, Span};

const WIDTH: usize = 100;
const INDENT: &str = "  ";

/// Formats a whole module, comments included.
pub fn format(module: &Module, text: &str) -> String {
    let mut p = Printer::new(text, module.comments.clone());
    for item in &module.items {
        p.statement(item.span(), 0, |p| p.item(item, 0));
    }
    p.leading(text.len() as u32, 0);
    let mut out = p.out.trim_end().to_string();
    out.push('\n');
    out
}

/// One item in canonical form without comments: what cache keys hash and agents read.
pub fn item_canonical(item: &Item, sources: &SourceMap) -> String {
    let text = &sources.get(item.span().file).text;
    let mut p = Printer::new(text, Vec::new());
    p.item(item, 0);
    p.out.trim_end().to_string()
}

/// A duration in the largest unit that divides it: `90000` → `90s`, `300000` → `5m`.
pub fn duration(ms: u64) -> String {
    for (unit, size) in [("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
        if ms != 0 && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

struct Printer<'a> {
    src: &'a str,
    comments: Vec<Span>,
    next_comment: usize,
    /// Source offset up to which everything has been printed, for blank-line detection.
    last_pos: u32,
    out: String,
}

impl<'a> Printer<'a> {
    fn new(src: &'a str, mut comments: Vec<Span>) -> Self {
        comments.sort_by_key(|c| c.start);
        Printer { src, comments, next_comment: 0, last_pos: 0, out: String::new() }
    }

    fn text(&self, span: Span) -> &'a str {
        &self.src[span.start as usize..span.end as usize]
    }

    /// Emits a blank line when the source had one before `start` (and none was emitted yet: a
    /// comment moved out of a statement sees the statement's own gap again).
    fn blank_line_before(&mut self, start: u32) {
        let gap = &self.src[(self.last_pos as usize).min(start as usize)..start as usize];
        let at_line_start = self.out.is_empty() || self.out.ends_with('\n');
        let blank_already = self.out.ends_with("\n\n");
        if !self.out.is_empty()
            && at_line_start
            && !blank_already
            && gap.matches('\n').count() >= 2
            && !self.out.ends_with("{\n")
        {
            self.out.push('\n');
        }
    }

    /// Prints every pending comment that starts before `upto`, each on its own line.
    fn leading(&mut self, upto: u32, depth: usize) {
        while let Some(&c) = self.comments.get(self.next_comment) {
            if c.start >= upto {
                break;
            }
            self.blank_line_before(c.start);
            self.line_start(depth);
            self.out.push_str(self.text(c).trim_end());
            self.out.push('\n');
            self.next_comment += 1;
            self.last_pos = c.end;
        }
    }

    /// Appends a comment that sits on the same source line right after `end`.
    fn trailing(&mut self, end: u32) {
        if let Some(&c) = self.comments.get(self.next_comment) {
            if !self.src[end as usize..c.start as usize].contains('\n') && c.start >= end {
                while self.out.ends_with('\n') {
                    self.out.pop();
                }
                self.out.push_str("  ");
                self.out.push_str(self.text(c).trim_end());
                self.out.push('\n');
                self.next_comment += 1;
                self.last_pos = c.end;
            }
        }
    }

    fn line_start(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str(INDENT);
        }
    }

    /// A statement: its leading comments, a blank line if it had one, itself, a trailing comment.
    fn statement(&mut self, span: Span, depth: usize, print: impl FnOnce(&mut Self)) {
        self.leading(span.start, depth);
        self.blank_line_before(span.start);
        print(self);
        if !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        self.last_pos = self.last_pos.max(span.end);
        self.trailing(span.end);
    }

    /// A one-line statement: comments inside it move above it.
    fn simple(&mut self, span: Span, depth: usize, line: String) {
        self.leading(span.end, depth);
        self.line_start(depth);
        self.out.push_str(&line);
    }

    fn item(&mut self, item: &Item, depth: usize) {
        match item {
            Item::Use(u) => {
                let mut line = String::from("use ");
                match &u.target {
                    UseTarget::Path(p) => line.push_str(&path_string(p)),
                    UseTarget::File { span, .. } => line.push_str(self.text(*span)),
                }
                if let Some(names) = &u.names {
                    let names: Vec<String> = names
                        .iter()
                        .map(|n| match &n.alias {
                            Some(a) => format!("{} as {}", n.name.name, a.name),
                            None => n.name.name.clone(),
                        })
                        .collect();
                    line.push_str(&format!("::{{{}}}", names.join(", ")));
                }
                if let Some(a) = &u.alias {
                    line.push_str(&format!(" as {}", a.name));
                }
                self.simple(u.span, depth, line);
            }
            Item::Param(d) => {
                let head = format!("param {}: {} = ", d.name.name, type_string(&d.ty));
                self.simple_expr(d.span, depth, head, &d.default);
            }
            Item::Let(d) => {
                self.leading(d.span.end, depth);
                self.line_start(depth);
                let head = format!("let {} = ", d.name.name);
                let col = depth * INDENT.len() + head.len();
                let value = self.expr(&d.value, col, depth);
                self.out.push_str(&head);
                self.out.push_str(&value);
                if let Some(opts) = &d.options {
                    let col = self.current_col() + " with ".len();
                    let opts = self.expr(opts, col, depth);
                    self.out.push_str(" with ");
                    self.out.push_str(&opts);
                }
            }
            Item::Output(d) => self.simple_expr(d.span, depth, format!("output {} = ", d.name.name), &d.value),
            Item::Optimizer(d) => self.simple_expr(d.span, depth, format!("optimizer {} = ", d.name.name), &d.value),
            Item::Dataset(d) => {
                let head = format!("dataset {} = ", d.name.name);
                match &d.schema {
                    None => self.simple_expr(d.span, depth, head, &d.source),
                    Some(cols) => {
                        self.leading(d.source.span.end, depth);
                        self.line_start(depth);
                        let col = depth * INDENT.len() + head.len();
                        let source = self.expr(&d.source, col, depth);
                        self.out.push_str(&format!("{head}{source} {{\n"));
                        self.last_pos = d.source.span.end;
                        for c in cols {
                            let mut line = format!("{}: {}", c.name.name, c.ty.name);
                            if let Some((_, span)) = &c.from {
                                line.push_str(&format!(" = {}", self.text(*span)));
                            }
                            self.statement(c.span, depth + 1, |p| p.simple(c.span, depth + 1, line));
                        }
                        self.close(d.span, depth);
                    }
                }
            }
            Item::Model(m) => {
                self.line_start(depth);
                self.out.push_str(&format!("model {} {{\n", m.name.name));
                self.last_pos = m.name.span.end;
                for stmt in &m.stmts {
                    self.statement(stmt.span(), depth + 1, |p| match stmt {
                        ModelStmt::Input { inputs, span } => {
                            let parts: Vec<String> = inputs
                                .iter()
                                .map(|i| match &i.size {
                                    Some(s) => format!("{}: {}({})", i.name.name, i.kind.name, p.text(s.span)),
                                    None => format!("{}: {}", i.name.name, i.kind.name),
                                })
                                .collect();
                            p.simple(*span, depth + 1, format!("input {}", parts.join(", ")));
                        }
                        ModelStmt::Assign { name, value, span } => {
                            p.simple_expr(*span, depth + 1, format!("{} = ", name.name), value)
                        }
                    });
                }
                self.close(m.span, depth);
            }
            Item::Reward(r) => match &r.body {
                RewardBody::External(e) => self.simple_expr(r.span, depth, format!("reward {} = ", r.name.name), e),
                RewardBody::Function { event, dataset, ret, body } => {
                    self.line_start(depth);
                    let ds = dataset.as_ref().map_or(String::new(), |d| format!(": {}", d.name));
                    self.out.push_str(&format!("reward {}({}{ds}) -> {} ", r.name.name, event.name, type_string(ret)));
                    self.last_pos = ret.span.end;
                    self.block_body(body, depth);
                }
            },
            Item::Persona(d) => {
                self.line_start(depth);
                self.out.push_str(&format!("persona {} {{\n", d.name.name));
                self.last_pos = d.name.span.end;
                for f in &d.fields {
                    self.statement(f.span, depth + 1, |p| {
                        p.simple_expr(f.span, depth + 1, format!("{}: ", f.name.name), &f.value)
                    });
                }
                self.close(d.span, depth);
            }
            Item::Step(s) => {
                self.line_start(depth);
                let params: Vec<String> = s
                    .params
                    .iter()
                    .map(|p| {
                        let mut out = format!("{}: {}", p.name.name, type_string(&p.ty));
                        if let Some(d) = &p.default {
                            out.push_str(" = ");
                            out.push_str(&self.expr(d, 0, depth + 1));
                        }
                        out
                    })
                    .collect();
                let ret = s.ret.as_ref().map_or(String::new(), |t| format!(" -> {}", type_string(t)));
                self.out.push_str(&format!("step {}({}){ret} ", s.name.name, params.join(", ")));
                self.last_pos = s.body.span.start;
                self.block_body(&s.body, depth);
            }
        }
    }

    fn simple_expr(&mut self, span: Span, depth: usize, head: String, e: &Expr) {
        self.leading(span.end, depth);
        self.line_start(depth);
        let col = depth * INDENT.len() + head.len();
        let value = self.expr(e, col, depth);
        self.out.push_str(&head);
        self.out.push_str(&value);
    }

    /// The closing brace of a block item, after any comments left inside it.
    fn close(&mut self, span: Span, depth: usize) {
        self.leading(span.end, depth + 1);
        self.line_start(depth);
        self.out.push('}');
    }

    /// `{ lets; result }` of a reward or step, printed one statement per line.
    fn block_body(&mut self, block: &Block, depth: usize) {
        self.out.push_str("{\n");
        for l in &block.lets {
            self.statement(l.span, depth + 1, |p| {
                p.simple_expr(l.span, depth + 1, format!("let {} = ", l.name.name), &l.value)
            });
        }
        let result = &block.result;
        self.statement(result.span, depth + 1, |p| p.simple_expr(result.span, depth + 1, String::new(), result));
        self.close(block.span, depth);
    }

    fn current_col(&self) -> usize {
        self.out.len() - self.out.rfind('\n').map_or(0, |i| i + 1)
    }

    /// An expression starting at column `col`; breaks it over lines when it does not fit.
    fn expr(&self, e: &Expr, col: usize, depth: usize) -> String {
        let mut flat = String::new();
        if self.flat_into(e, &mut flat, WIDTH.saturating_sub(col)) && !flat.contains('\n') {
            return flat;
        }
        let inner = INDENT.repeat(depth + 1);
        let close = INDENT.repeat(depth);
        let items: Option<(String, Vec<String>, &str)> = match &e.kind {
            ExprKind::Call { callee, args } if !args.is_empty() => Some((
                format!("{}(", path_string(callee)),
                args.iter().map(|a| self.arg(a, (depth + 1) * INDENT.len(), depth + 1)).collect(),
                ")",
            )),
            ExprKind::List(items) if !items.is_empty() => Some((
                "[".into(),
                items.iter().map(|i| self.expr(i, (depth + 1) * INDENT.len(), depth + 1)).collect(),
                "]",
            )),
            ExprKind::Record(fields) if !fields.is_empty() => Some((
                "{".into(),
                fields
                    .iter()
                    .map(|(n, v)| {
                        let head = format!("{}: ", n.name);
                        format!("{head}{}", self.expr(v, (depth + 1) * INDENT.len() + head.len(), depth + 1))
                    })
                    .collect(),
                "}",
            )),
            _ => None,
        };
        match items {
            Some((open, items, end)) => {
                let mut out = format!("{open}\n");
                for item in items {
                    out.push_str(&format!("{inner}{item},\n"));
                }
                out.push_str(&format!("{close}{end}"));
                out
            }
            None => self.broken(e, depth),
        }
    }

    /// Expressions that hold blocks (`if` with `let`s) are printed over several lines.
    fn broken(&self, e: &Expr, depth: usize) -> String {
        let mut out = String::new();
        self.broken_into(e, depth, &mut out);
        out
    }

    /// [`Self::broken`], appending to `out`: a long operator chain costs its length, not its
    /// length squared.
    fn broken_into(&self, e: &Expr, depth: usize, out: &mut String) {
        match &e.kind {
            ExprKind::If { cond, then, otherwise } => {
                out.push_str("if ");
                self.flat_into(cond, out, usize::MAX);
                out.push(' ');
                out.push_str(&self.block_lines(then, depth));
                out.push_str(" else ");
                match otherwise {
                    Else::Block(b) => out.push_str(&self.block_lines(b, depth)),
                    Else::If(i) => self.broken_into(i, depth, out),
                }
            }
            ExprKind::Binary { op, left, right, .. } => {
                self.broken_into(left, depth, out);
                out.push(' ');
                out.push_str(op.symbol());
                out.push(' ');
                self.broken_into(right, depth, out);
            }
            ExprKind::Paren(inner) => {
                out.push('(');
                self.broken_into(inner, depth, out);
                out.push(')');
            }
            ExprKind::Unary { op, operand } => {
                out.push(if *op == UnaryOp::Neg { '-' } else { '!' });
                self.broken_into(operand, depth, out);
            }
            _ => {
                self.flat_into(e, out, usize::MAX);
            }
        }
    }

    fn block_lines(&self, b: &Block, depth: usize) -> String {
        let inner = INDENT.repeat(depth + 1);
        let mut out = String::from("{\n");
        for l in &b.lets {
            let head = format!("let {} = ", l.name.name);
            out.push_str(&format!(
                "{inner}{head}{}\n",
                self.expr(&l.value, (depth + 1) * INDENT.len() + head.len(), depth + 1)
            ));
        }
        out.push_str(&format!("{inner}{}\n", self.expr(&b.result, (depth + 1) * INDENT.len(), depth + 1)));
        out.push_str(&INDENT.repeat(depth));
        out.push('}');
        out
    }

    fn arg(&self, a: &Arg, col: usize, depth: usize) -> String {
        match &a.name {
            Some(n) => {
                let head = format!("{}: ", n.name);
                format!("{head}{}", self.expr(&a.value, col + head.len(), depth))
            }
            None => self.expr(&a.value, col, depth),
        }
    }

    /// `e` on one line (a `\n` inside means it holds a block with `let`s), if it fits in `limit` bytes: appends to `out` and stops as soon as `out`
    /// is longer. Bounded, so deciding whether a deeply nested expression fits on a line costs
    /// the line's width, not the expression's size (checking formats every block).
    fn flat_into(&self, e: &Expr, out: &mut String, limit: usize) -> bool {
        let sep = |out: &mut String, i: usize| {
            if i > 0 {
                out.push_str(", ");
            }
        };
        match &e.kind {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_)
            | ExprKind::Str { .. }
            | ExprKind::Duration(_)
            | ExprKind::Percent(_)
            | ExprKind::Metric { .. }
            | ExprKind::Invalid => out.push_str(self.text(e.span)),
            ExprKind::Path(p) => out.push_str(&path_string(p)),
            ExprKind::Call { callee, args } => {
                out.push_str(&path_string(callee));
                out.push('(');
                for (i, a) in args.iter().enumerate() {
                    sep(out, i);
                    if let Some(n) = &a.name {
                        out.push_str(&n.name);
                        out.push_str(": ");
                    }
                    if !self.flat_into(&a.value, out, limit) {
                        return false;
                    }
                }
                out.push(')');
            }
            ExprKind::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    sep(out, i);
                    if !self.flat_into(item, out, limit) {
                        return false;
                    }
                }
                out.push(']');
            }
            ExprKind::Record(fields) if fields.is_empty() => out.push_str("{}"),
            ExprKind::Record(fields) => {
                out.push_str("{ ");
                for (i, (n, v)) in fields.iter().enumerate() {
                    sep(out, i);
                    out.push_str(&n.name);
                    out.push_str(": ");
                    if !self.flat_into(v, out, limit) {
                        return false;
                    }
                }
                out.push_str(" }");
            }
            ExprKind::Field { base, field } => {
                if !self.flat_into(base, out, limit) {
                    return false;
                }
                // A literal written against the dot would take the field in as its unit or
                // digits (`0 .e` is not `0.e`): the space stays.
                let literal = matches!(
                    base.kind,
                    ExprKind::Int(_)
                        | ExprKind::Float(_)
                        | ExprKind::Duration(_)
                        | ExprKind::Percent(_)
                        | ExprKind::Metric { .. }
                );
                if literal {
                    out.push(' ');
                }
                out.push('.');
                out.push_str(&field.name);
            }
            ExprKind::Unary { op, operand } => {
                out.push(if *op == UnaryOp::Neg { '-' } else { '!' });
                return self.flat_into(operand, out, limit);
            }
            ExprKind::Binary { op, left, right, .. } => {
                if !self.flat_into(left, out, limit) {
                    return false;
                }
                out.push(' ');
                out.push_str(op.symbol());
                out.push(' ');
                return self.flat_into(right, out, limit);
            }
            ExprKind::Paren(inner) => {
                out.push('(');
                if !self.flat_into(inner, out, limit) {
                    return false;
                }
                out.push(')');
            }
            ExprKind::If { cond, then, otherwise } => {
                if !then.lets.is_empty() || matches!(otherwise, Else::Block(b) if !b.lets.is_empty()) {
                    out.push('\n');
                    return out.len() <= limit;
                }
                out.push_str("if ");
                if !self.flat_into(cond, out, limit) {
                    return false;
                }
                out.push_str(" { ");
                if !self.flat_into(&then.result, out, limit) {
                    return false;
                }
                out.push_str(" } else ");
                match otherwise {
                    Else::Block(b) => {
                        out.push_str("{ ");
                        if !self.flat_into(&b.result, out, limit) {
                            return false;
                        }
                        out.push_str(" }");
                    }
                    Else::If(i) => return self.flat_into(i, out, limit),
                }
            }
        }
        out.len() <= limit
    }
}

fn type_string(t: &TypeExpr) -> String {
    match &t.arg {
        Some(a) => format!("{}<{}>", t.name.name, type_string(a)),
        None => t.name.name.clone(),
    }
}
