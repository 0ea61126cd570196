//! `evoflow lsp` spoken to over stdio, as an editor does: diagnostics as you type (the codes and
//! messages of `evoflow check`), hover, go to definition (into the stdlib), completion,
//! formatting, document symbols, and a clean shutdown.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};
use support::Dir;

/// A language client over a child process's stdin/stdout.
struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
    /// Notifications that arrived while waiting for a response.
    notes: Vec<Value>,
}

impl Client {
    fn start(cache: &std::path::Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_evoflow"))
            .arg("lsp")
            .env("EVOFLOW_CACHE", cache)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut client = Client { child, stdin, stdout, next_id: 1, notes: Vec::new() };
        let caps = client.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
        assert_eq!(caps["capabilities"]["hoverProvider"], json!(true), "{caps}");
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            assert!(self.stdout.read_line(&mut line).unwrap() > 0, "the server closed its output");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive();
            if message["id"] == json!(id) {
                assert!(message.get("error").is_none(), "{method}: {message}");
                return message["result"].clone();
            }
            self.notes.push(message);
        }
    }

    /// The next diagnostics published for any document.
    fn diagnostics(&mut self) -> Vec<Value> {
        loop {
            let note = if self.notes.is_empty() { self.receive() } else { self.notes.remove(0) };
            if note["method"] == "textDocument/publishDiagnostics" {
                return note["params"]["diagnostics"].as_array().unwrap().clone();
            }
        }
    }
}

const GOOD: &str = "use std::sim::{logs}
use std::data::{random_split}
use std::models::{bpr_mf}

dataset events = logs(users: 100, seed: 1)
let split = random_split(events, seed: 1)

model tower {
  input user: id, item: id
  u = embed(user, 32)
  score = dot(u, embed(item, 32))
}

let m = bpr_mf
";

/// An LSP position (line, UTF-16 column) of the `nth` occurrence of `needle` in `text`, plus
/// `offset` bytes.
fn at(text: &str, needle: &str, nth: usize, offset: usize) -> Value {
    let start = text.match_indices(needle).nth(nth).unwrap().0 + offset;
    let line = text[..start].matches('\n').count();
    let column = start - text[..start].rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": column })
}

fn doc(uri: &str, position: Value) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": position })
}

#[test]
fn an_editor_session() {
    let dir = Dir::new();
    let cache = Dir::new();
    let bad = GOOD.replace("random_split(events", "random_split(event");
    dir.file("w.evo", &bad);
    let path = dir.path().join("w.evo");
    let uri = format!("file://{}", path.display());
    let mut lsp = Client::start(cache.path());

    // Diagnostics as you type: the same code and message as `evoflow check`.
    lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "evo", "version": 1, "text": bad } }),
    );
    let diags = lsp.diagnostics();
    let check = dir.run(["check", "w.evo", "--format", "json"]);
    let expected: Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], expected[0]["code"], "{diags:?} vs {expected}");
    assert!(diags[0]["message"].as_str().unwrap().starts_with(expected[0]["message"].as_str().unwrap()), "{diags:?}");
    assert_eq!(diags[0]["range"]["start"], at(&bad, "event,", 0, 0));
    lsp.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": GOOD }] }),
    );
    assert_eq!(lsp.diagnostics(), Vec::<Value>::new(), "fixed: no diagnostics");

    // Hover: an item's kind and type, a built-in's signature, a model value's shape.
    let hover = |lsp: &mut Client, needle: &str, nth: usize, offset: usize| -> String {
        let answer = lsp.request("textDocument/hover", doc(&uri, at(GOOD, needle, nth, offset)));
        answer["contents"]["value"].as_str().unwrap_or_default().to_string()
    };
    assert!(hover(&mut lsp, "events", 1, 2).contains("dataset events: dataset"));
    let split = hover(&mut lsp, "random_split", 1, 3);
    assert!(split.contains("std::data::random_split(data: dataset"), "{split}");
    assert!(hover(&mut lsp, "dot(u", 0, 4).contains("u: [32]"), "a model value's shape where it is used");
    let model = hover(&mut lsp, "tower", 0, 1);
    assert!(model.contains("model tower") && model.contains("| `u` | [32] |"), "{model}");

    // Go to definition: in the file, and into the stdlib (written under the cache).
    let def = lsp.request("textDocument/definition", doc(&uri, at(GOOD, "events", 1, 1)));
    assert_eq!(def["uri"], json!(uri));
    assert_eq!(def["range"]["start"], at(GOOD, "events", 0, 0));
    let def = lsp.request("textDocument/definition", doc(&uri, at(GOOD, "= bpr_mf", 0, 3)));
    let target = def["uri"].as_str().unwrap().strip_prefix("file://").unwrap().to_string();
    assert!(target.starts_with(&cache.path().display().to_string()), "{target}");
    let line = def["range"]["start"]["line"].as_u64().unwrap() as usize;
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.lines().nth(line).unwrap().contains("model bpr_mf"), "{target}:{line}");

    // Completion: a built-in's arguments inside its parentheses; names elsewhere.
    let labels = |answer: Value| -> Vec<String> {
        answer.as_array().unwrap().iter().map(|c| c["label"].as_str().unwrap().to_string()).collect()
    };
    let args = labels(lsp.request("textDocument/completion", doc(&uri, at(GOOD, "seed: 1)", 1, 0))));
    for name in ["data", "valid", "test", "seed", "by"] {
        assert!(args.contains(&name.to_string()), "{name} in {args:?}");
    }
    let names = labels(lsp.request("textDocument/completion", doc(&uri, at(GOOD, "let m", 0, 0))));
    for name in ["random_split", "offline", "events", "tower"] {
        assert!(names.contains(&name.to_string()), "{name} missing");
    }

    // Symbols, in order.
    let symbols = lsp.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } }));
    let names: Vec<&str> = symbols.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["events", "split", "tower", "m"]);

    // Formatting: what `evoflow fmt` writes.
    let messy = GOOD.replace("let split = random_split(events, seed: 1)", "let   split=random_split( events,seed:1 )");
    lsp.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": messy }] }),
    );
    lsp.diagnostics();
    let edits = lsp.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    dir.file("w.evo", &messy);
    dir.status(["fmt", "w.evo"], 0);
    assert_eq!(edits[0]["newText"].as_str().unwrap(), std::fs::read_to_string(&path).unwrap());

    // Shutdown, then exit: the process ends cleanly.
    assert_eq!(lsp.request("shutdown", Value::Null), Value::Null);
    lsp.notify("exit", Value::Null);
    drop(lsp.stdin);
    assert!(lsp.child.wait().unwrap().success());
}
