import { Component, type ReactNode } from "react";

interface Props {
  step: number;
  testId: string;
  className?: string;
  children: ReactNode;
}

/** The inspector views of one step, kept from taking their page down when one of them fails;
 * the next step gets a fresh try. */
export default class ViewsBoundary extends Component<Props, { error: Error | null; step: number }> {
  state = { error: null as Error | null, step: this.props.step };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  static getDerivedStateFromProps(props: Props, state: { error: Error | null; step: number }) {
    return props.step !== state.step ? { error: null, step: props.step } : null;
  }

  render() {
    if (this.state.error) {
      return (
        <p className={this.props.className} role="alert" data-testid={this.props.testId}>
          The inspector views failed on step {this.props.step}: {this.state.error.message}
        </p>
      );
    }
    return this.props.children;
  }
}
