//! Source text → [`Module`]: the pest grammar in `grammar/evo.pest`, then a walk over its pairs
//! into our own spanned AST (no pest lifetimes leave this file).

use std::sync::OnceLock;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use crate::ast::*;
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::scan::scan;
use crate::span::{FileId, Span};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/evo.pest"]
struct EvoParser;

/// Parses one file. On failure returns every diagnostic found (the scan may find several).
pub fn parse(file: FileId, text: &str) -> Result<Module, Vec<Diagnostic>> {
    let scanned = scan(file, text);
    if !scanned.errors.is_empty() {
        return Err(scanned.errors);
    }
    let mut pairs = match EvoParser::parse(Rule::program, text) {
        Ok(pairs) => pairs,
        Err(_) => {
            // Parse again with pest's token tracking on, so a missing `=` or `,` is reported
            // where it is missing rather than at the start of the declaration.
            static DETAIL: std::sync::Once = std::sync::Once::new();
            DETAIL.call_once(|| pest::set_error_detail(true));
            let err = EvoParser::parse(Rule::program, text).expect_err("the same text fails again");
            return Err(vec![syntax_error(file, text, err)]);
        }
    };
    let mut walker = Walker { file, text, comments: &scanned.comments, errors: Vec::new(), depth: 0 };
    let program = pairs.next().expect("the program rule always yields one pair");
    let items = program.into_inner().filter(|p| p.as_rule() != Rule::EOI).map(|p| walker.item(p)).collect();
    if walker.errors.is_empty() {
        Ok(Module { file, items, comments: scanned.comments })
    } else {
        Err(walker.errors)
    }
}

/// Parses a lone value such as a `--set` argument; `None` if it is not one expression.
pub fn parse_value(text: &str) -> Option<Expr> {
    let file = FileId(u32::MAX);
    if !scan(file, text).errors.is_empty() {
        return None;
    }
    let mut pairs = EvoParser::parse(Rule::value_only, text).ok()?;
    let expr = pairs.next()?.into_inner().next()?;
    let mut walker = Walker { file, text, comments: &[], errors: Vec::new(), depth: 0 };
    let expr = walker.expr(expr);
    walker.errors.is_empty().then_some(expr)
}

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::or, Assoc::Left))
            .op(Op::infix(Rule::and, Assoc::Left))
            .op(Op::infix(Rule::eq, Assoc::Left)
                | Op::infix(Rule::ne, Assoc::Left)
                | Op::infix(Rule::lt, Assoc::Left)
                | Op::infix(Rule::le, Assoc::Left)
                | Op::infix(Rule::gt, Assoc::Left)
                | Op::infix(Rule::ge, Assoc::Left))
            .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
            .op(Op::infix(Rule::mul, Assoc::Left)
                | Op::infix(Rule::div, Assoc::Left)
                | Op::infix(Rule::rem, Assoc::Left))
            .op(Op::prefix(Rule::neg) | Op::prefix(Rule::not))
            .op(Op::infix(Rule::coalesce, Assoc::Left))
    })
}

fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_use
            | Rule::kw_param
            | Rule::kw_dataset
            | Rule::kw_let
            | Rule::kw_with
            | Rule::kw_output
            | Rule::kw_model
            | Rule::kw_input
            | Rule::kw_reward
            | Rule::kw_optimizer
            | Rule::kw_persona
            | Rule::kw_step
            | Rule::kw_if
            | Rule::kw_else
            | Rule::kw_as
    )
}

/// The children of a pair, keywords left out.
fn children(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| !is_keyword(p.as_rule()))
}

struct Walker<'t> {
    file: FileId,
    text: &'t str,
    /// Comment spans, sorted, to trim them off the end of spans.
    comments: &'t [Span],
    errors: Vec<Diagnostic>,
    /// How deep the expression being built can nest: every operator, `else if` and enclosing
    /// expression on the way to it counts (see [`MAX_EXPR_DEPTH`]).
    depth: usize,
}

/// Deepest expression tree accepted. Operator chains nest without brackets (`a + b + ...` is
/// as deep as it is long), and every later pass (checking, formatting, the reward sandbox)
/// recurses on the tree, so it is bounded here, where the tree is built, with a located error.
pub const MAX_EXPR_DEPTH: usize = 128;

impl Walker<'_> {
    /// Enters `levels` more levels of expression nesting; `false` (after reporting it once) when
    /// that passes [`MAX_EXPR_DEPTH`].
    fn deeper(&mut self, levels: usize, span: Span) -> bool {
        self.depth += levels;
        if self.depth <= MAX_EXPR_DEPTH {
            return true;
        }
        self.depth -= levels;
        if !self.errors.iter().any(|e| matches!(e.kind, ErrorKind::ExprTooDeep { .. })) {
            self.errors.push(
                Diagnostic::new(ErrorKind::ExprTooDeep { limit: MAX_EXPR_DEPTH }, span)
                    .help("split it: compute parts with `let` and combine the names"),
            );
        }
        false
    }

    /// The span of a pair, without the whitespace and comments pest lets trail after a rule
    /// that ends in a repetition.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), self.trim_end(s.start(), s.end()))
    }

    fn trim_end(&self, start: usize, mut end: usize) -> usize {
        loop {
            let trimmed = start + self.text[start..end].trim_end().len();
            end = trimmed;
            match self.comments.binary_search_by_key(&(end as u32), |c| c.end) {
                Ok(i) if self.comments[i].start as usize >= start => end = self.comments[i].start as usize,
                _ => return end,
            }
        }
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident { name: pair.as_str().to_string(), span: self.span(&pair) }
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Item {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut it = children(pair);
        match rule {
            Rule::use_decl => {
                let target = it.next().unwrap();
                let target = match target.as_rule() {
                    Rule::string => {
                        let s = self.span(&target);
                        UseTarget::File { path: self.string(target), span: s }
                    }
                    _ => UseTarget::Path(children(target).map(|p| self.ident(p)).collect()),
                };
                let (mut names, mut alias) = (None, None);
                if let Some(tail) = it.next() {
                    let inner: Vec<_> = children(tail).collect();
                    if inner.len() == 1 && inner[0].as_rule() == Rule::as_alias {
                        alias = Some(self.alias(inner[0].clone()));
                    } else if inner.first().map(|p| p.as_rule()) == Some(Rule::as_alias) {
                        unreachable!("grammar: `as` stands alone");
                    } else {
                        names = Some(
                            inner
                                .into_iter()
                                .map(|n| {
                                    let mut parts = children(n);
                                    let name = self.ident(parts.next().unwrap());
                                    let alias = parts.next().map(|a| self.alias(a));
                                    UseName { name, alias }
                                })
                                .collect(),
                        );
                    }
                }
                Item::Use(UseDecl { target, names, alias, span })
            }
            Rule::param_decl => {
                let name = self.ident(it.next().unwrap());
                let ty = self.type_expr(it.next().unwrap());
                let default = self.expr(it.next().unwrap());
                Item::Param(ParamDecl { name, ty, default, span })
            }
            Rule::dataset_decl => {
                let name = self.ident(it.next().unwrap());
                let source = self.expr(it.next().unwrap());
                let schema = it.next().map(|s| children(s).map(|c| self.column(c)).collect());
                Item::Dataset(DatasetDecl { name, source, schema, span })
            }
            Rule::let_decl => {
                let name = self.ident(it.next().unwrap());
                let value = self.expr(it.next().unwrap());
                let options = it.next().map(|o| self.expr_like(children(o).next().unwrap()));
                Item::Let(LetDecl { name, value, options, span })
            }
            Rule::output_decl => {
                let name = self.ident(it.next().unwrap());
                let value = self.expr(it.next().unwrap());
                Item::Output(OutputDecl { name, value, span })
            }
            Rule::model_decl => {
                let name = self.ident(it.next().unwrap());
                let stmts = it.map(|s| self.model_stmt(s)).collect();
                Item::Model(ModelDecl { name, stmts, span })
            }
            Rule::reward_decl => {
                let name = self.ident(it.next().unwrap());
                let body = it.next().unwrap();
                let body = match body.as_rule() {
                    Rule::reward_external => RewardBody::External(self.expr(children(body).next().unwrap())),
                    _ => {
                        let mut parts: Vec<_> = children(body).collect();
                        let block = self.block(parts.pop().unwrap());
                        let ret = self.type_expr(parts.pop().unwrap());
                        let event = self.ident(parts.remove(0));
                        let dataset = parts.pop().map(|p| self.ident(p));
                        RewardBody::Function { event, dataset, ret, body: block }
                    }
                };
                Item::Reward(RewardDecl { name, body, span })
            }
            Rule::optimizer_decl => {
                let name = self.ident(it.next().unwrap());
                let value = self.expr(it.next().unwrap());
                Item::Optimizer(OptimizerDecl { name, value, span })
            }
            Rule::persona_decl => {
                let name = self.ident(it.next().unwrap());
                let fields = it
                    .map(|f| {
                        let span = self.span(&f);
                        let mut parts = children(f);
                        let name = self.ident(parts.next().unwrap());
                        let value = self.expr(parts.next().unwrap());
                        Field { name, value, span }
                    })
                    .collect();
                Item::Persona(PersonaDecl { name, fields, span })
            }
            Rule::step_decl => {
                let name = self.ident(it.next().unwrap());
                let mut params = Vec::new();
                let mut ret = None;
                let mut body = None;
                for p in it {
                    match p.as_rule() {
                        Rule::step_param => {
                            let span = self.span(&p);
                            let mut parts = children(p);
                            let name = self.ident(parts.next().unwrap());
                            let ty = self.type_expr(parts.next().unwrap());
                            let default = parts.next().map(|d| self.expr(d));
                            params.push(StepParam { name, ty, default, span });
                        }
                        Rule::type_expr => ret = Some(self.type_expr(p)),
                        _ => body = Some(self.block(p)),
                    }
                }
                Item::Step(StepDecl { name, params, ret, body: body.unwrap(), span })
            }
            other => unreachable!("grammar: {other:?} is not an item"),
        }
    }

    fn alias(&self, pair: Pair<'_, Rule>) -> Ident {
        self.ident(children(pair).next().unwrap())
    }

    fn column(&mut self, pair: Pair<'_, Rule>) -> Column {
        let span = self.span(&pair);
        let mut parts = children(pair);
        let name = self.ident(parts.next().unwrap());
        let ty = self.ident(parts.next().unwrap());
        let from = parts.next().map(|s| (self.span(&s), s)).map(|(sp, s)| (self.string(s), sp));
        Column { name, ty, from, span }
    }

    fn type_expr(&self, pair: Pair<'_, Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let mut parts = children(pair);
        let name = self.ident(parts.next().unwrap());
        let arg = parts.next().map(|p| Box::new(self.type_expr(p)));
        TypeExpr { name, arg, span }
    }

    fn model_stmt(&mut self, pair: Pair<'_, Rule>) -> ModelStmt {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::input_stmt => {
                let inputs = children(pair)
                    .map(|d| {
                        let span = self.span(&d);
                        let mut parts = children(d);
                        let name = self.ident(parts.next().unwrap());
                        let kind = self.ident(parts.next().unwrap());
                        let size = parts.next().map(|n| self.expr_like(n));
                        InputDecl { name, kind, size, span }
                    })
                    .collect();
                ModelStmt::Input { inputs, span }
            }
            _ => {
                let mut parts = children(pair);
                let name = self.ident(parts.next().unwrap());
                let value = self.expr(parts.next().unwrap());
                ModelStmt::Assign { name, value, span }
            }
        }
    }

    fn block(&mut self, pair: Pair<'_, Rule>) -> Block {
        let span = self.span(&pair);
        let mut lets = Vec::new();
        let mut result = None;
        for p in children(pair) {
            match p.as_rule() {
                Rule::local_let => {
                    let span = self.span(&p);
                    let mut parts = children(p);
                    let name = self.ident(parts.next().unwrap());
                    let value = self.expr(parts.next().unwrap());
                    lets.push(LocalLet { name, value, span });
                }
                _ => result = Some(Box::new(self.expr(p))),
            }
        }
        Block { lets, result: result.expect("grammar: a block ends in an expression"), span }
    }

    /// An `expr` pair, through the Pratt parser.
    fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        // The tree is at most as deep as its operators, plus one for the expression itself.
        let levels = 1 + pair.clone().into_inner().filter(|p| is_operator(p.as_rule())).count();
        let span = self.span(&pair);
        if !self.deeper(levels, span) {
            return Expr { kind: ExprKind::Invalid, span };
        }
        let expr = self.operators(pair);
        self.depth -= levels;
        expr
    }

    /// The Pratt parser over an `expr` pair's operands and operators.
    fn operators(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let file = self.file;
        let span_of = move |p: &Pair<'_, Rule>| {
            let s = p.as_span();
            Span::new(file, s.start(), s.end())
        };
        let this = std::cell::RefCell::new(self);
        pratt()
            .map_primary(|p| this.borrow_mut().postfix(p))
            .map_prefix(move |op, operand| {
                let op_span = span_of(&op);
                let op = if op.as_rule() == Rule::neg { UnaryOp::Neg } else { UnaryOp::Not };
                Expr { span: op_span.to(operand.span), kind: ExprKind::Unary { op, operand: Box::new(operand) } }
            })
            .map_infix(move |left, op, right| {
                let op_span = span_of(&op);
                let op = match op.as_rule() {
                    Rule::or => BinaryOp::Or,
                    Rule::and => BinaryOp::And,
                    Rule::eq => BinaryOp::Eq,
                    Rule::ne => BinaryOp::Ne,
                    Rule::lt => BinaryOp::Lt,
                    Rule::le => BinaryOp::Le,
                    Rule::gt => BinaryOp::Gt,
                    Rule::ge => BinaryOp::Ge,
                    Rule::add => BinaryOp::Add,
                    Rule::sub => BinaryOp::Sub,
                    Rule::mul => BinaryOp::Mul,
                    Rule::div => BinaryOp::Div,
                    Rule::rem => BinaryOp::Rem,
                    _ => BinaryOp::Coalesce,
                };
                Expr {
                    span: left.span.to(right.span),
                    kind: ExprKind::Binary { op, op_span, left: Box::new(left), right: Box::new(right) },
                }
            })
            .parse(pair.into_inner())
    }

    /// A `postfix` pair: a primary with `.field` accesses.
    fn postfix(&mut self, pair: Pair<'_, Rule>) -> Expr {
        // Every `.field` nests the expression before it one level deeper.
        let levels = pair.clone().into_inner().count() - 1;
        let span = self.span(&pair);
        if !self.deeper(levels, span) {
            return Expr { kind: ExprKind::Invalid, span };
        }
        let mut parts = pair.into_inner();
        let mut expr = self.expr_like(parts.next().unwrap());
        for access in parts {
            let field = self.ident(access.into_inner().next().unwrap());
            expr = Expr { span: expr.span.to(field.span), kind: ExprKind::Field { base: Box::new(expr), field } };
        }
        self.depth -= levels;
        expr
    }

    /// Any pair that denotes an expression: a primary, or a nested `expr`.
    fn expr_like(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let text = pair.as_str();
        let kind = match pair.as_rule() {
            Rule::expr => return self.expr(pair),
            Rule::paren => ExprKind::Paren(Box::new(self.expr(children(pair).next().unwrap()))),
            Rule::number => self.number(text, span),
            Rule::percent => match clean(&text[..text.len() - 1]).parse::<f64>() {
                Ok(v) => ExprKind::Percent(v),
                Err(_) => self.invalid(text, "not a number", span),
            },
            Rule::duration => self.duration(text, span),
            Rule::metric => {
                let (name, k) = text.split_once('@').unwrap();
                match clean(k).parse::<u32>() {
                    Ok(k) => ExprKind::Metric { name: name.to_string(), k },
                    Err(_) => self.invalid(text, "the cut-off after `@` is too large", span),
                }
            }
            Rule::bad_number => {
                let reason = bad_number_reason(text);
                self.invalid(text, &reason, span)
            }
            Rule::boolean => ExprKind::Bool(text == "true"),
            Rule::string => {
                let long = text.starts_with("\"\"\"");
                ExprKind::Str { value: self.string(pair), long }
            }
            Rule::qualified => ExprKind::Path(children(pair).map(|p| self.ident(p)).collect()),
            Rule::call => {
                let mut parts = children(pair);
                let callee = children(parts.next().unwrap()).map(|p| self.ident(p)).collect();
                let args = parts
                    .map(|a| {
                        let span = self.span(&a);
                        let inner: Vec<_> = children(a).collect();
                        let (name, value) = match inner.len() {
                            2 => (Some(self.ident(inner[0].clone())), inner[1].clone()),
                            _ => (None, inner[0].clone()),
                        };
                        Arg { name, value: self.expr(value), span }
                    })
                    .collect();
                ExprKind::Call { callee, args }
            }
            Rule::list => ExprKind::List(children(pair).map(|p| self.expr(p)).collect()),
            Rule::record => ExprKind::Record(
                children(pair)
                    .map(|f| {
                        let mut parts = children(f);
                        let name = self.ident(parts.next().unwrap());
                        (name, self.expr(parts.next().unwrap()))
                    })
                    .collect(),
            ),
            Rule::if_expr => return self.if_expr(pair),
            other => unreachable!("grammar: {other:?} is not an expression"),
        };
        Expr { kind, span }
    }

    fn if_expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        // An `else if` chain nests one level per `if`.
        if !self.deeper(1, span) {
            return Expr { kind: ExprKind::Invalid, span };
        }
        let expr = self.if_chain(pair, span);
        self.depth -= 1;
        expr
    }

    fn if_chain(&mut self, pair: Pair<'_, Rule>, span: Span) -> Expr {
        let mut parts = children(pair);
        let cond = Box::new(self.expr(parts.next().unwrap()));
        let then = self.block(parts.next().unwrap());
        let rest = parts.next().unwrap();
        let otherwise = match rest.as_rule() {
            Rule::if_expr => Else::If(Box::new(self.if_expr(rest))),
            _ => Else::Block(self.block(rest)),
        };
        Expr { kind: ExprKind::If { cond, then, otherwise }, span }
    }

    fn number(&mut self, text: &str, span: Span) -> ExprKind {
        let digits = clean(text);
        if digits.contains(['.', 'e', 'E']) {
            match digits.parse::<f64>() {
                Ok(v) if v.is_finite() => ExprKind::Float(v),
                _ => self.invalid(text, "too large for a 64-bit float", span),
            }
        } else {
            match digits.parse::<i64>() {
                Ok(v) => ExprKind::Int(v),
                Err(_) => self.invalid(text, "does not fit in a 64-bit integer", span),
            }
        }
    }

    fn duration(&mut self, text: &str, span: Span) -> ExprKind {
        let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap();
        let (n, unit) = text.split_at(split);
        let ms: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => 604_800_000,
        };
        match clean(n).parse::<u64>().ok().and_then(|n| n.checked_mul(ms)) {
            Some(v) => ExprKind::Duration(v),
            None => self.invalid(text, "duration too long", span),
        }
    }

    fn invalid(&mut self, text: &str, reason: &str, span: Span) -> ExprKind {
        self.errors.push(Diagnostic::new(
            ErrorKind::InvalidLiteral { text: text.to_string(), reason: reason.to_string() },
            span,
        ));
        ExprKind::Invalid
    }

    /// The value of a string literal, escapes resolved.
    fn string(&mut self, pair: Pair<'_, Rule>) -> String {
        let text = pair.as_str();
        let start = pair.as_span().start();
        if let Some(inner) = text.strip_prefix("\"\"\"") {
            return inner[..inner.len() - 3].to_string();
        }
        let inner = &text[1..text.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let (_, e) = chars.next().unwrap_or((i, '\\'));
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                '0' => out.push('\0'),
                other => {
                    let at = start + 1 + i;
                    self.errors.push(
                        Diagnostic::new(
                            ErrorKind::InvalidEscape { escape: format!("\\{other}") },
                            Span::new(self.file, at, at + 1 + other.len_utf8()),
                        )
                        .help("the escapes are \\n, \\t, \\r, \\\\, \\\" and \\0"),
                    );
                }
            }
        }
        out
    }
}

fn clean(digits: &str) -> String {
    digits.replace('_', "")
}

fn bad_number_reason(text: &str) -> String {
    if text.contains('@') {
        return "a metric is written `name@k`, e.g. `ndcg@10`".to_string();
    }
    if text.matches('.').count() > 1 {
        return "a number has at most one decimal point".to_string();
    }
    let unit: String = text.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_' || c == '.').to_string();
    if !unit.is_empty() && unit.chars().all(|c| c.is_ascii_alphabetic()) {
        return format!("unknown unit `{unit}`; durations use ms, s, m, h, d or w (e.g. `5m`)");
    }
    "not a number, duration, percent or metric".to_string()
}

/// Turns pest's error into our diagnostic: what was expected, in words, and what was found.
fn syntax_error(file: FileId, text: &str, err: pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let mut pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<&str> = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.iter().filter_map(|r| describe(*r)).collect(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    // Punctuation is matched as literals, which pest's rule positions do not track: when one
    // was expected further on than any rule, that is where the mistake is.
    if let Some(attempts) = err.parse_attempts() {
        let tokens: Vec<&str> =
            attempts.expected_tokens().iter().filter_map(|t| describe_token(&t.to_string())).collect();
        if !tokens.is_empty() && attempts.max_position >= pos {
            if attempts.max_position > pos {
                expected.clear();
                pos = attempts.max_position;
            }
            expected.extend(tokens);
        }
    }
    expected.sort();
    expected.dedup();
    // Drop the alternatives that only continue what came before when a likelier one is there:
    // an opening bracket is an expression, and a separator or closer beats a call or a field.
    if expected.contains(&EXPRESSION) {
        expected.retain(|e| !["`(`", "`[`", "`{`"].contains(e));
    }
    if expected.iter().any(|e| ["`,`", "`)`", "`]`", "`}`"].contains(e)) {
        expected.retain(|e| !["`(`", "`[`", "`{`", "`:`", "`::`"].contains(e));
    }
    if expected.contains(&DECLARATION) {
        expected.retain(|e| *e != "`let`");
    }
    let rest = &text[pos..];
    let token_len = token_at(rest);
    let word = &rest[..token_len];
    let help = if expected.contains(&DECLARATION) {
        crate::suggest::closest(word, DECLARATION_KEYWORDS.iter().copied())
            .map(|k| format!("did you mean the keyword `{k}`?"))
    } else if word == "=" && expected.contains(&"an operator") {
        Some("to compare, write `==`".to_string())
    } else {
        None
    };
    let expected = match expected.as_slice() {
        [] => "something else".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    let found = if rest.is_empty() { "end of file".to_string() } else { format!("`{word}`") };
    let end = pos + token_len.max(usize::from(!rest.is_empty()));
    Diagnostic::new(ErrorKind::Syntax { expected, found }, Span::new(file, pos, end)).maybe_help(help)
}

/// What a user reads when a declaration was expected.
const DECLARATION: &str =
    "a declaration (`use`, `param`, `dataset`, `let`, `model`, `reward`, `optimizer`, `persona`, `step`, `output`)";

/// The keywords that start a declaration, for "did you mean".
const DECLARATION_KEYWORDS: &[&str] =
    &["use", "param", "dataset", "let", "model", "reward", "optimizer", "persona", "step", "output"];

/// What a user reads when an expression was expected.
const EXPRESSION: &str = "an expression";

/// Length of the token that starts `rest`: a word, or one character.
fn token_at(rest: &str) -> usize {
    let word = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    if word > 0 {
        word
    } else {
        rest.chars().next().map_or(0, char::len_utf8)
    }
}

/// The words a user reads for a punctuation token of the grammar; `None` for operators and
/// other tokens that a rule already describes.
fn describe_token(token: &str) -> Option<&'static str> {
    Some(match token {
        "=" => "`=`",
        ":" => "`:`",
        "," => "`,`",
        "(" => "`(`",
        ")" => "`)`",
        "[" => "`[`",
        "]" => "`]`",
        "{" => "`{`",
        "}" => "`}`",
        "->" => "`->`",
        "::" => "`::`",
        _ => return None,
    })
}

/// The words a user reads for a grammar rule; `None` for rules that only add noise.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::use_decl | Rule::param_decl | Rule::dataset_decl | Rule::let_decl | Rule::model_decl => DECLARATION,
        Rule::reward_decl | Rule::optimizer_decl | Rule::persona_decl | Rule::step_decl | Rule::output_decl => {
            DECLARATION
        }
        Rule::kw_use | Rule::kw_param | Rule::kw_dataset | Rule::kw_model | Rule::kw_reward => DECLARATION,
        Rule::kw_optimizer | Rule::kw_persona | Rule::kw_step | Rule::kw_output => DECLARATION,
        Rule::ident | Rule::qualified | Rule::module_path => "a name",
        Rule::expr | Rule::postfix | Rule::call | Rule::number | Rule::string | Rule::list | Rule::record => EXPRESSION,
        Rule::if_expr | Rule::percent | Rule::duration | Rule::metric | Rule::boolean | Rule::neg | Rule::not => {
            EXPRESSION
        }
        Rule::bad_number => EXPRESSION,
        Rule::or | Rule::and | Rule::eq | Rule::ne | Rule::lt | Rule::le | Rule::gt | Rule::ge => "an operator",
        Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::rem | Rule::coalesce => "an operator",
        Rule::field_access => "`.field`",
        Rule::type_expr => "a type",
        Rule::schema => "a column schema `{ ... }`",
        Rule::column => "a column `name: type`",
        Rule::step_options => "`with { ... }`",
        Rule::input_stmt | Rule::assign_stmt => "a model statement (`input ...` or `name = ...`)",
        Rule::input_decl => "an input `name: kind`",
        Rule::reward_external | Rule::reward_fn => "`(event) -> float { ... }` or `= wasm(\"...\")`",
        Rule::field => "a field `name: value`",
        Rule::step_param => "a parameter `name: type`",
        Rule::block => "`{`",
        Rule::local_let | Rule::kw_let => "`let`",
        Rule::arg => "an argument",
        Rule::record_field => "a field `name: value`",
        Rule::use_tail => "`::{...}` or `as`",
        Rule::use_name => "a name",
        Rule::as_alias | Rule::kw_as => "`as`",
        Rule::kw_else => "`else`",
        Rule::kw_with => "`with`",
        Rule::kw_input => "`input`",
        _ => return None,
    })
}

/// Whether a rule is an operator of an `expr` (prefix or infix).
fn is_operator(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::neg
            | Rule::not
            | Rule::or
            | Rule::and
            | Rule::eq
            | Rule::ne
            | Rule::lt
            | Rule::le
            | Rule::gt
            | Rule::ge
            | Rule::add
            | Rule::sub
            | Rule::mul
            | Rule::div
            | Rule::rem
            | Rule::coalesce
    )
}
