import { memo, useState } from "react";

import { KEY_META, type StepTensorKey } from "../../lib/generated/tensor-keys";
import type { StepFrame } from "../../lib/tensor-frame";
import { TRACE_SECTIONS, type TraceSection } from "../../lib/views/trace";
import KeyView from "./KeyView";

/**
 * The nine steps of BCL for the batch on screen, in the order the algorithm computes them, each a
 * collapsible section. A collapsed section draws nothing.
 */
function AlgorithmTrace({ frame }: { frame: StepFrame }) {
  const [closed, setClosed] = useState<ReadonlySet<string>>(() => new Set());
  const toggle = (id: string) =>
    setClosed((before) => {
      const next = new Set(before);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const allOpen = closed.size === 0;

  return (
    <section className="card trace-card" aria-labelledby="trace-title" data-testid="algorithm-trace">
      <header className="card-head">
        <h2 id="trace-title">
          Algorithm trace
          <span className="card-head-step">step {frame.step}</span>
        </h2>
        <span className="trace-head-side">
          <span className="muted card-head-meta">every intermediate of BCL for this batch, in algorithm order</span>
          <button
            type="button"
            className="btn btn-sm"
            data-testid="trace-toggle-all"
            onClick={() => setClosed(allOpen ? new Set(TRACE_SECTIONS.map((s) => s.id)) : new Set())}
          >
            {allOpen ? "Collapse all" : "Expand all"}
          </button>
        </span>
      </header>
      <ol className="trace-list">
        {TRACE_SECTIONS.map((section) => (
          <TraceItem key={section.id} section={section} frame={frame} open={!closed.has(section.id)} onToggle={toggle} />
        ))}
      </ol>
    </section>
  );
}

const TraceItem = memo(function TraceItem(props: {
  section: TraceSection;
  frame: StepFrame;
  open: boolean;
  onToggle: (id: string) => void;
}) {
  const { section, frame, open } = props;
  // A key over the frame's budget is held too: its view reads it on its own.
  const held = (key: StepTensorKey) => Boolean(frame.tensors[key] || frame.deferred[key]);
  const present = section.keys.filter(held);
  const bodyId = `trace-body-${section.id}`;
  return (
    <li
      className={open ? "trace-section open" : "trace-section"}
      data-testid={`trace-section-${section.id}`}
      data-n={section.n}
      data-open={open}
    >
      <button
        type="button"
        className="trace-toggle"
        aria-expanded={open}
        aria-controls={bodyId}
        data-testid={`trace-toggle-${section.id}`}
        onClick={() => props.onToggle(section.id)}
      >
        <span className="trace-n">{section.n}</span>
        <span className="trace-heading">
          <span className="trace-title">{section.title}</span>
          <span className="trace-question">{section.question}</span>
        </span>
        <span className="trace-keys mono">
          {section.keys.map((key) => (
            <span key={key} className={held(key) ? "trace-key" : "trace-key absent"} title={KEY_META[key]?.description}>
              {key}
            </span>
          ))}
        </span>
        <svg className="trace-chevron" viewBox="0 0 20 20" aria-hidden="true">
          <path d="M6 8l4 4 4-4" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
      </button>
      {open && (
        <div className="trace-body" id={bodyId} data-testid={`trace-body-${section.id}`}>
          {present.length === 0 ? (
            <p className="view-missing wide" data-view="missing" data-step={frame.step}>
              <span>
                <span className="mono">{section.keys.join(", ")}</span>: not captured in this condition ({frame.header.condition})
              </span>
            </p>
          ) : (
            <div className={`trace-figures n${section.keys.length}`}>
              {section.keys.map((key) => (
                <KeyView key={key} frame={frame} tensorKey={key} place={section.id} markNeighbours={section.n === 2} barHeight={section.keys.length > 2 ? 110 : 130} />
              ))}
            </div>
          )}
        </div>
      )}
    </li>
  );
});

export default memo(AlgorithmTrace);
