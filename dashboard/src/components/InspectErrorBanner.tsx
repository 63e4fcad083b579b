import { useStore } from "@nanostores/react";

import { $inspectError, dismissInspectError } from "../lib/inspect-store";
import ErrorBanner from "./ErrorBanner";

/** The last failed inspector call: what was being done, the trainer's answer, and its traceback. */
export default function InspectErrorBanner() {
  const error = useStore($inspectError, { ssr: "initial" });
  return <ErrorBanner error={error} onDismiss={dismissInspectError} testId="inspect-error" className="inspect-error" />;
}
