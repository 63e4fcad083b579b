import { useStore } from "@nanostores/react";

import { $inspectBusy, $inspectOwner, releaseModel } from "../lib/inspect-store";
import { canRelease, ownerLabel } from "../lib/model-owner";

/**
 * Shown while this page has no session and something else holds the trainer's model (a free run
 * started on the runs page): who it is, and one click (confirmed) to release it. Setting up here
 * would be refused until then, so Step and Set up wait for it.
 */
export default function InspectOwnerBanner() {
  const owner = useStore($inspectOwner, { ssr: () => null });
  const busy = useStore($inspectBusy, { ssr: "initial" });
  if (!owner) return null;

  const label = ownerLabel(owner);
  const releasable = canRelease(owner);
  const releasing = busy?.action === "release";

  const release = () => {
    const question = `Stop ${label}?\n\nIt ends where it is (its steps stay on the Runs page) and the model becomes free for the inspector.`;
    if (window.confirm(question)) void releaseModel();
  };

  return (
    <div
      className="banner banner-owner"
      role="status"
      data-testid="inspect-owner-banner"
      data-owner-kind={owner.kind}
      data-owner-id={owner.id}
    >
      <svg className="banner-icon" viewBox="0 0 20 20" aria-hidden="true">
        <path
          fill="currentColor"
          d="M10 2a4 4 0 0 0-4 4v2H5.5A1.5 1.5 0 0 0 4 9.5v7A1.5 1.5 0 0 0 5.5 18h9a1.5 1.5 0 0 0 1.5-1.5v-7A1.5 1.5 0 0 0 14.5 8H14V6a4 4 0 0 0-4-4Zm-2 6V6a2 2 0 1 1 4 0v2H8Zm2 3a1.25 1.25 0 0 1 .75 2.25V15a.75.75 0 0 1-1.5 0v-1.75A1.25 1.25 0 0 1 10 11Z"
        />
      </svg>
      <div className="banner-body">
        <p className="banner-title" data-testid="inspect-owner-text">
          The model is held by <span title={owner.name}>{label}</span>
        </p>
        <p className="banner-detail">
          {releasable
            ? "Step and Set up need the model. Releasing stops the run where it is; its steps stay browsable on the "
            : "Step and Set up need the model; end it first. See the "}
          <a href="/">Runs page</a>.
        </p>
      </div>
      {releasable && (
        <button
          type="button"
          className="btn btn-sm btn-danger banner-action"
          data-testid="inspect-release-btn"
          disabled={busy !== null}
          aria-busy={releasing}
          title={`Stop ${label} and free the model`}
          onClick={release}
        >
          {releasing && <span className="spinner" aria-hidden="true" />}
          {releasing ? "Releasing…" : "Release it"}
        </button>
      )}
    </div>
  );
}
