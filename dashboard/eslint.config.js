// ESLint for the dashboard (flat config): TypeScript and TSX under src/ with the React hooks
// rules (the plugin's `recommended` set, `exhaustive-deps` raised to an error), and the UI
// server's .mjs files with Node's globals. `.astro` files are checked by `astro build` and tsc.
// Run by `npm run lint` (and ./test.sh); warnings fail it too (`--max-warnings 0`).
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["dist/", ".astro/", "node_modules/"],
  },
  js.configs.recommended,
  {
    files: ["src/**/*.{ts,tsx}"],
    extends: [tseslint.configs.recommended, reactHooks.configs.flat.recommended],
    languageOptions: {
      globals: globals.browser,
    },
    rules: {
      "react-hooks/exhaustive-deps": "error",
      // `_name` marks a value taken apart on purpose and left unused (a rest pattern's siblings).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ["server/**/*.mjs", "*.{js,mjs}"],
    languageOptions: {
      globals: globals.node,
    },
  },
);
