import { useStore } from "@nanostores/react";

import { $inspectSelection, $inspectSession, loadStep } from "../lib/inspect-store";
import FirstNonFiniteBadge from "./FirstNonFiniteBadge";

/** The inspector session's first NaN/Inf; a click loads that step (its full data, or its scalars). */
export default function InspectFirstNonFinite() {
  const session = useStore($inspectSession, { ssr: () => null });
  const selection = useStore($inspectSelection, { ssr: "initial" });
  const first = session?.first_nonfinite;
  if (!first) return null;
  return (
    <FirstNonFiniteBadge
      first={first}
      shown={selection.step === first.step}
      onJump={() => void loadStep(first.step)}
      note={null}
      testId="inspect-first-nonfinite"
    />
  );
}
