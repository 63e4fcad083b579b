import type { ReactNode } from "react";

import { formatClock } from "../lib/format";
import type { ActionError } from "../lib/store-actions";

/** The red circle with an exclamation mark every error banner starts with. */
export function ErrorIcon() {
  return (
    <svg className="banner-icon" viewBox="0 0 20 20" aria-hidden="true">
      <path
        fill="currentColor"
        d="M10 1.5a8.5 8.5 0 1 1 0 17 8.5 8.5 0 0 1 0-17Zm0 11.75a1.1 1.1 0 1 0 0 2.2 1.1 1.1 0 0 0 0-2.2ZM10 5a1 1 0 0 0-1 1v5a1 1 0 1 0 2 0V6a1 1 0 0 0-1-1Z"
      />
    </svg>
  );
}

/** A Python traceback, folded. */
export function Traceback(props: { text: string; testId?: string }) {
  return (
    <details className="banner-traceback">
      <summary>Traceback</summary>
      <pre data-testid={props.testId}>{props.text}</pre>
    </details>
  );
}

/**
 * A red banner (role alert): the icon, `children` as its body (a `banner-title` paragraph first),
 * and a dismiss button when `onDismiss` is given (test id `<testId>-dismiss`).
 */
export function AlertBanner(props: {
  testId: string;
  /** Extra class names, e.g. the page's spacing. */
  className?: string;
  /** Extra attributes of the banner, e.g. data-status. */
  data?: Record<string, string | number>;
  onDismiss?: () => void;
  children: ReactNode;
}) {
  return (
    <div className={`banner banner-error${props.className ? ` ${props.className}` : ""}`} role="alert" data-testid={props.testId} {...props.data}>
      <ErrorIcon />
      <div className="banner-body">{props.children}</div>
      {props.onDismiss && (
        <button
          type="button"
          className="banner-dismiss"
          onClick={props.onDismiss}
          aria-label="Dismiss error"
          title="Dismiss"
          data-testid={`${props.testId}-dismiss`}
        >
          <svg viewBox="0 0 20 20" aria-hidden="true">
            <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
          </svg>
        </button>
      )}
    </div>
  );
}

/**
 * The last failed call of a page (lib/store-actions.ts `ActionError`): what was being done, the
 * trainer's answer and code, its traceback, and when; nothing while `error` is null. Test ids:
 * `testId` on the banner (with data-status and data-code), `<testId>-detail`, `<testId>-traceback`
 * and `<testId>-dismiss`.
 */
export default function ErrorBanner(props: {
  error: ActionError | null;
  onDismiss: () => void;
  testId: string;
  className?: string;
  /** Added to the title when the trainer answered 409 (another owner holds the model). */
  conflict?: string;
  /** Under the detail, e.g. what to do about it. */
  hint?: ReactNode;
}) {
  const { error } = props;
  if (!error) return null;
  return (
    <AlertBanner
      testId={props.testId}
      className={props.className}
      data={{ "data-status": error.status, "data-code": error.code }}
      onDismiss={props.onDismiss}
    >
      <p className="banner-title">
        {error.action} failed{error.status === 409 && props.conflict ? `: ${props.conflict}` : ""}
      </p>
      <p className="banner-detail" data-testid={`${props.testId}-detail`}>
        {error.detail}
        <span className="banner-code">
          {error.status ? `HTTP ${error.status} · ` : ""}
          {error.code}
        </span>
      </p>
      {props.hint}
      {error.traceback && <Traceback text={error.traceback} testId={`${props.testId}-traceback`} />}
      <p className="banner-meta">at {formatClock(error.at)}</p>
    </AlertBanner>
  );
}
