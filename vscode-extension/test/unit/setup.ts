/**
 * Loaded before the unit tests (mocha --require): `require("vscode")` and
 * `require("vscode-languageclient/node")` get the stubs, so extension.ts
 * runs outside VS Code.
 */
import { Module } from "node:module";
import * as languageclient from "./stubs/languageclient";
import * as vscode from "./stubs/vscode";

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load };
const originalLoad = loader._load;
loader._load = function (this: unknown, request: string, parent: unknown, isMain: boolean) {
  if (request === "vscode") return vscode;
  if (request === "vscode-languageclient/node") return languageclient;
  return originalLoad.call(this, request, parent, isMain);
};
