// Typesets formulas with MathJax 3.2.2 configured the way Anki configures it,
// and reports the TeX error of each one.
//
//   stdin:  [{"tex": "\\frac{a}{b", "display": false}, ...]
//   stdout: [null | "Missing close brace", ...]   (one entry per input, same order)
//
// With --mathml, each entry is {"error": null | str, "mathml": str | null} instead,
// so that tests can see what a formula that passes actually renders as.
// With --width, each entry is {"error": null | str, "width": number | null}: the typeset
// width in em of MathJax's TeX font (its own metrics, before CHTML scales the math to the
// surrounding text's x-height), null when the formula has an error.
//
// Exit status: 0 when every formula was judged (broken formulas included),
// 2 on bad input, 1 when MathJax itself could not start.

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

// Anki's reviewer loads tex-chtml-full.js, whose TeX packages are ['require',
// ...AllPackages], and adds {"[+]": ["noerrors", "mathtools"], "[-]": ["textmacros"]}
// (Anki's MathJax config in ankitects/anki, ts/mathjax/); mathtools is already in
// AllPackages. We load the same tex-full component, keep textmacros out as Anki
// does, and also drop noerrors and noundefined: they turn errors into rendered
// text, and we want the errors.
const REMOVED_PACKAGES = ["textmacros", "noerrors", "noundefined"];

// Tables that a formula can write into (\newcommand, \def, \let, \newenvironment,
// \DeclareMathOperator, \DeclarePairedDelimiter). They are emptied after every
// formula so that each verdict depends on that formula alone: otherwise a macro
// defined by one card would make another card pass here and fail in Anki.
const USER_DEFINED_MAPS = [
  "new-Command",
  "new-Delimiter",
  "new-Environment",
  "ams-declare-ops",
  "mathtools-paired-delims",
];

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (chunk) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

function parseFormulas(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`stdin is not JSON: ${err.message}`);
  }
  if (!Array.isArray(data)) {
    throw new Error("stdin must be a JSON array of {tex, display}");
  }
  data.forEach((item, i) => {
    if (
      item === null ||
      typeof item !== "object" ||
      typeof item.tex !== "string" ||
      typeof item.display !== "boolean"
    ) {
      throw new Error(
        `item ${i} must be {"tex": string, "display": boolean}, not ${JSON.stringify(item)}`,
      );
    }
  });
  return data;
}

async function startMathJax(onTexError) {
  const { init } = require("mathjax-full/es5/node-main.js");
  return init({
    // The output jax is needed even though we only compile: bussproofs asks it
    // for bounding boxes while parsing.
    loader: {
      load: ["input/tex-full", "output/chtml", "adaptors/liteDOM"],
      versionWarnings: false,
    },
    tex: {
      packages: { "[-]": REMOVED_PACKAGES },
      // Without noerrors MathJax renders a TeX error as an <merror> node; keep the
      // default rendering but note the message.
      formatError: (jax, err) => {
        onTexError(err.message);
        return jax.formatError(err);
      },
    },
    startup: { typeset: false },
  });
}

function userDefinedMaps(MathJax) {
  // Ask the TeX jax's own handlers: MathJax._.input.tex.MapHandler belongs to
  // another copy of the module in the es5 bundles and holds empty maps.
  const handlers = MathJax.startup.input[0].parseOptions.handlers;
  return USER_DEFINED_MAPS.map((name) => handlers.retrieve(name)).filter(Boolean);
}

// The width of a formula that typesets, in em: the bounding box that MathJax's CHTML output
// gives its <mjx-container> in the browser, from its font metrics, at scale 1; null if it
// cannot be measured.
function typesetWidth(doc, item) {
  try {
    const bbox = doc.outputJax.getBBox(item, doc);
    const width = bbox.L + bbox.w + bbox.R;
    return Number.isFinite(width) ? Math.round(width * 1000) / 1000 : null;
  } catch (err) {
    return null;
  }
}

async function main() {
  const wantMathml = process.argv.includes("--mathml");
  const wantWidth = process.argv.includes("--width");
  let formulas;
  try {
    formulas = parseFormulas(await readStdin());
  } catch (err) {
    process.stderr.write(`check.mjs: ${err.message}\n`);
    process.exit(2);
  }

  let texError = null;
  const MathJax = await startMathJax((message) => {
    texError = message;
  });
  const maps = userDefinedMaps(MathJax);
  const doc = MathJax.startup.document;
  const retries = (fn) => MathJax._.mathjax.mathjax.handleRetriesFor(fn);
  const CONVERTED = MathJax._.core.MathItem.STATE.CONVERT;

  // \require loads a package for the rest of the page, as it does in Anki; judge
  // those formulas last so that they cannot change the verdict of the others.
  const order = formulas.map((_, i) => i);
  const requires = (i) => formulas[i].tex.includes("\\require");
  order.sort((a, b) => requires(a) - requires(b) || a - b);

  const verdicts = new Map();
  const results = new Array(formulas.length);
  for (const i of order) {
    const { tex, display } = formulas[i];
    const key = `${display}:${tex}`;
    if (!verdicts.has(key)) {
      texError = null;
      let mathml = null;
      let item = null;
      try {
        // What MathJax.tex2mmlPromise does, keeping the MathItem so that it can be measured.
        await retries(() => {
          item = new doc.options.MathItem(tex, doc.inputJax[0], display);
          item.start.node = MathJax.startup.adaptor.body(doc.document);
          item.setMetrics(16, 8, 1000000, 1000000, 1);
          item.convert(doc, CONVERTED);
        });
        mathml = MathJax.startup.toMML(item.root);
      } catch (err) {
        // Not a TeX error (those go through formatError): \require of a package
        // that does not exist, or a MathJax bug that the formula trips.
        texError =
          /Cannot find module/.test(String(err.message))
            ? "\\require names an extension that MathJax does not have"
            : `MathJax internal error: ${String(err.message).split("\n")[0]}`;
      }
      MathJax.texReset();
      const width = wantWidth && texError === null ? typesetWidth(doc, item) : null;
      for (const map of maps) map.map.clear();
      verdicts.set(key, { error: texError, mathml: texError === null ? mathml : null, width });
    }
    const verdict = verdicts.get(key);
    if (wantMathml) results[i] = { error: verdict.error, mathml: verdict.mathml };
    else if (wantWidth) results[i] = { error: verdict.error, width: verdict.width };
    else results[i] = verdict.error;
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((err) => {
  process.stderr.write(`check.mjs: MathJax failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
