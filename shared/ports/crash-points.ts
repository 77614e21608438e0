/**
 * Named points between two writes where a test can make the process die (SIGKILL), to show that a
 * run, a creation or a request still ends as its plan says, with nothing lost or done twice. In
 * production nothing is wired here. Names: `task:<action>:<start|before-write|done>:step<i>`,
 * `write:<verb>:after-write:step<i>` (a deployment written, its audit event not yet appended),
 * `control:<request>:before-wake`,
 * `create:<after-claim|after-marker|after-deployment|after-lock|after-event>`, `traffic:after-split-write`.
 */
export interface CrashPoints {
  /** Returns normally unless the process was told to die at `name` (then it never returns). */
  reached(name: string): void;
}
