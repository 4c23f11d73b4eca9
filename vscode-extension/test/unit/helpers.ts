import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigurationReader } from "../../src/config";

export const ROOT = path.resolve(__dirname, "..", "..", "..");

/* eslint-disable @typescript-eslint/no-explicit-any */
export const manifest: any = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

/** The `btls.*` settings with the defaults package.json declares, as VS Code would give them. */
export function manifestDefaults(): Record<string, unknown> {
  const properties = manifest.contributes.configuration.properties as Record<string, { default: unknown }>;
  return Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, value.default]));
}

export function readerOf(values: Record<string, unknown>, section = "btls"): ConfigurationReader {
  return {
    get<T>(key: string): T | undefined {
      return values[`${section}.${key}`] as T | undefined;
    },
  };
}
