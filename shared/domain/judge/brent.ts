/**
 * Brent's root finder as R's `uniroot` runs it (`R_zeroin2`, after Brent 1973, "Algorithms for
 * Minimization without Derivatives", ch. 4): bisection, secant and inverse quadratic steps, keeping
 * the root bracketed. Kayenta solves its Mann-Whitney bounds with the same algorithm and tolerance
 * (KayentaBrentSolver.brentDirect), so a port of it gives the same numbers, not just close ones.
 *
 * That matters because the function the judge solves is a step function: its "root" is where it
 * jumps across zero, and the value returned is wherever the iteration stops within `tolerance` of
 * the jump (the 7e-5 lower bound of spinnaker/spinnaker#6278 is such a value).
 */

export interface BrentOptions {
  /** Absolute tolerance; R's wilcox.test passes 1e-4. */
  tolerance: number;
  maxIterations: number;
}

const EPSILON = 2.220446049250313e-16;

/**
 * A root of `f` in [a, b], given f(a) and f(b) of opposite signs (or one of them 0). The result is
 * within tolerance/2 + 2·ε·|x| of a sign change of `f`. Throws RangeError when the ends do not
 * bracket a root; returns the last estimate when maxIterations run out, as R does (with a warning).
 */
export function brentRoot(f: (x: number) => number, lowerEnd: number, upperEnd: number, fLower: number, fUpper: number, options: BrentOptions): number {
  let a = lowerEnd;
  let b = upperEnd;
  let fa = fLower;
  let fb = fUpper;
  if (fa === 0) return a;
  if (fb === 0) return b;
  if (Math.sign(fa) === Math.sign(fb) || Number.isNaN(fa) || Number.isNaN(fb)) {
    throw new RangeError(`the function does not change sign between ${a} and ${b} (${fa}, ${fb})`);
  }
  let c = a;
  let fc = fa;
  for (let iteration = 0; iteration <= options.maxIterations; iteration++) {
    const previousStep = b - a;
    if (Math.abs(fc) < Math.abs(fb)) {
      // Keep b the best approximation.
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tolerance = 2 * EPSILON * Math.abs(b) + options.tolerance / 2;
    let step = (c - b) / 2;
    if (Math.abs(step) <= tolerance || fb === 0) return b;

    if (Math.abs(previousStep) >= tolerance && Math.abs(fa) > Math.abs(fb)) {
      // Interpolation may be tried: the step is p/q, division delayed.
      let p: number;
      let q: number;
      const cb = c - b;
      if (a === c) {
        const t1 = fb / fa; // two points: secant
        p = cb * t1;
        q = 1 - t1;
      } else {
        const qa = fa / fc; // three points: inverse quadratic
        const t1 = fb / fc;
        const t2 = fb / fa;
        p = t2 * (cb * qa * (qa - t1) - (b - a) * (t1 - 1));
        q = (qa - 1) * (t1 - 1) * (t2 - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (p < 0.75 * cb * q - Math.abs(tolerance * q) / 2 && p < Math.abs((previousStep * q) / 2)) step = p / q;
    }

    if (Math.abs(step) < tolerance) step = step > 0 ? tolerance : -tolerance;
    a = b;
    fa = fb;
    b += step;
    fb = f(b);
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      c = a;
      fc = fa;
    }
  }
  return b;
}
