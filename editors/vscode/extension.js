// Starts `evoflow lsp` for .evo files: diagnostics, hover, definitions, completion, formatting.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("evoflow").get("path") || "evoflow";
  const server = { command, args: ["lsp"] };
  client = new LanguageClient("evoflow", "evoflow", { run: server, debug: server }, {
    documentSelector: [{ scheme: "file", language: "evo" }],
  });
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
