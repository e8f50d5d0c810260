// The camp extension: starts `camp lsp` for .camp files and lets
// vscode-languageclient speak the protocol. Everything the editor shows
// (diagnostics, completion, hover, quick fixes, formatting) comes from the
// server; the grammar in syntaxes/ only colours the text.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from "vscode-languageclient/node";

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const config = vscode.workspace.getConfiguration("camp");
  const command = config.get<string>("server.path") || "camp";
  const extraEnv = config.get<Record<string, string>>("server.extraEnv") || {};
  const docsBaseUrl = config.get<string>("docsBaseUrl") || undefined;

  const run = { command, args: ["lsp"], transport: TransportKind.stdio, options: { env: { ...process.env, ...extraEnv } } };
  const serverOptions: ServerOptions = { run, debug: run };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "camp" },
      { scheme: "untitled", language: "camp" },
    ],
    // Files changed on disk (another editor, `git checkout`) re-check the workspace.
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.camp") },
    initializationOptions: { docsBaseUrl },
  };

  client = new LanguageClient("camp", "camp language server", serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.commands.registerCommand("camp.restartServer", async () => {
      await client?.restart();
    }),
  );
  try {
    await client.start();
  } catch (err) {
    void vscode.window.showErrorMessage(
      `camp: could not start \`${command} lsp\` (${String(err)}). Install camp or set "camp.server.path".`,
    );
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
