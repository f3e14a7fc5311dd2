// Bundles the example page (example/main.ts and the stubs) into example/dist/main.js with esbuild.
import { build } from "esbuild";

await build({
  entryPoints: ["example/main.ts"],
  bundle: true,
  format: "esm",
  target: "es2022",
  outfile: "example/dist/main.js",
  sourcemap: true,
  logLevel: "warning",
});
console.log("built example/dist/main.js");
