//! The taut string through a corridor: the path planner's solver.
//!
//! Given sample times `t[0] < t[1] < ... < t[n-1]` and, at each, an interval `[lo[i], hi[i]]` of
//! allowed values, the taut string is the piecewise-linear function `p` with `lo[i] <= p(t[i]) <=
//! hi[i]` that a string pulled tight through the corridor would follow, with free ends. It is the
//! unique minimiser of `sum_i (t[i+1]-t[i]) * g((p[i+1]-p[i]) / (t[i+1]-t[i]))` for **every**
//! strictly convex `g` at once (classic result on taut strings, e.g. Davies & Kovac 2001; with
//! `g(s) = |s|` it is also an L1-optimal path in the sense of Grundmann et al. 2011). So it is:
//! - **still** wherever one constant value fits the corridor (exactly constant, not nearly),
//! - made of **straight segments** (constant-velocity pans) otherwise, bending only where a bound
//!   forces it, with the fewest and gentlest changes of velocity,
//! - **monotone** between forced turning points: it never reverses direction without need.
//!
//! Algorithm (O(n) per vertex found, O(n^2) worst case, fast in practice):
//! 1. Free start: scan forward keeping the intersection `[L, U]` of the bands. If it never becomes
//!    empty, one constant fits everything: return it (clamped `prefer`). Otherwise it empties at
//!    `k` because the path must rise (`lo[k] > U`) or fall (`hi[k] < L`); the optimal path is flat at
//!    `U` (or `L`) up to the last sample that set that bound, its first vertex.
//! 2. Free end: the same scan backward gives the last vertex.
//! 3. Between them, the "funnel" (string pulling): from the current vertex, scan forward keeping
//!    the steepest lower slope and the flattest upper slope seen; when a new sample's band lies
//!    entirely above the upper slope (or below the lower one), the string bends at the sample that
//!    set that slope, which becomes the next vertex.

/// The vertices `(time, value)` of the taut string through the bands. `prefer` picks the level
/// when a constant fits everything. Bands with `lo > hi` are treated as the point `(lo + hi) / 2`.
/// Times must be strictly increasing (samples with a non-increasing time are skipped).
pub fn taut_string(t: &[f64], lo: &[f64], hi: &[f64], prefer: f64) -> Vec<(f64, f64)> {
    // Clean input: strictly increasing times, ordered bands.
    let n0 = t.len().min(lo.len()).min(hi.len());
    let mut ts = Vec::with_capacity(n0);
    let mut ls = Vec::with_capacity(n0);
    let mut hs = Vec::with_capacity(n0);
    for i in 0..n0 {
        if ts.last().is_some_and(|&last| t[i] <= last) || !t[i].is_finite() {
            continue;
        }
        let (a, b) = if lo[i] <= hi[i] {
            (lo[i], hi[i])
        } else {
            let m = (lo[i] + hi[i]) / 2.0;
            (m, m)
        };
        ts.push(t[i]);
        ls.push(a);
        hs.push(b);
    }
    let n = ts.len();
    if n == 0 {
        return Vec::new();
    }

    // 1. Free start.
    let Some((js, vs)) = flat_end(&ts, &ls, &hs, false) else {
        // A constant fits: the whole path is still.
        let l = ls.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let u = hs.iter().cloned().fold(f64::INFINITY, f64::min);
        let v = prefer.clamp(l, u);
        return if n == 1 { vec![(ts[0], v)] } else { vec![(ts[0], v), (ts[n - 1], v)] };
    };
    // 2. Free end (scanning backward).
    let (je, ve) = flat_end(&ts, &ls, &hs, true).unwrap_or((n - 1, vs));
    let (js, vs, je, ve) = if js < je { (js, vs, je, ve) } else { (0, vs, n - 1, ve) };

    // 3. Funnel between the two fixed vertices.
    let mut out = vec![(ts[0], vs)];
    if js > 0 {
        out.push((ts[js], vs));
    }
    let band = |k: usize| if k == je { (ve, ve) } else { (ls[k], hs[k]) };
    let (mut ai, mut av) = (js, vs);
    while ai < je {
        let mut smin = f64::NEG_INFINITY;
        let mut smax = f64::INFINITY;
        let (mut amin, mut amax) = (ai, ai);
        let mut next = None;
        for k in ai + 1..=je {
            let (l, h) = band(k);
            let dt = ts[k] - ts[ai];
            let sl = (l - av) / dt;
            let sh = (h - av) / dt;
            if sl > smax {
                next = Some((amax, band(amax).1)); // bend on the upper bound
                break;
            }
            if sh < smin {
                next = Some((amin, band(amin).0)); // bend on the lower bound
                break;
            }
            if sl >= smin {
                smin = sl;
                amin = k;
            }
            if sh <= smax {
                smax = sh;
                amax = k;
            }
        }
        match next {
            Some((k, v)) if k > ai => {
                out.push((ts[k], v));
                ai = k;
                av = v;
            }
            _ => {
                // The end is visible from the current vertex: straight line to it.
                out.push((ts[je], ve));
                ai = je;
            }
        }
    }
    if je < n - 1 {
        out.push((ts[n - 1], ve));
    }
    out
}

/// Where the flat part at one end of the string stops: `None` when one constant fits all bands,
/// otherwise `(index, level)` of the vertex ending the flat part. `backward` scans from the end.
fn flat_end(t: &[f64], lo: &[f64], hi: &[f64], backward: bool) -> Option<(usize, f64)> {
    let n = t.len();
    let order: Vec<usize> = if backward { (0..n).rev().collect() } else { (0..n).collect() };
    let first = order[0];
    let (mut l, mut u) = (lo[first], hi[first]);
    let (mut al, mut au) = (first, first);
    for &k in order.iter().skip(1) {
        if lo[k] > u {
            return Some((au, u));
        }
        if hi[k] < l {
            return Some((al, l));
        }
        // Ties move the vertex towards the break: the flat part lasts as long as it can.
        if lo[k] >= l {
            l = lo[k];
            al = k;
        }
        if hi[k] <= u {
            u = hi[k];
            au = k;
        }
    }
    None
}

/// Value of the polyline through `keys` (sorted by time) at `t`; constant beyond the ends.
pub fn polyline_at(keys: &[(f64, f64)], t: f64) -> f64 {
    let Some(&(t0, v0)) = keys.first() else {
        return 0.0;
    };
    if t <= t0 {
        return v0;
    }
    let i = keys.partition_point(|k| k.0 <= t);
    if i >= keys.len() {
        return keys[keys.len() - 1].1;
    }
    let (ta, va) = keys[i - 1];
    let (tb, vb) = keys[i];
    if tb <= ta {
        return vb;
    }
    va + (vb - va) * (t - ta) / (tb - ta)
}

/// `∫ P(s) ds` over `[a, b]` (`a <= b`) for the polyline `P` through `keys`, constant beyond the
/// ends. Only the segments that meet `[a, b]` are visited.
fn integral_between(keys: &[(f64, f64)], a: f64, b: f64) -> f64 {
    let n = keys.len();
    if n == 0 || b <= a {
        return 0.0;
    }
    let mut acc = 0.0;
    // Before the first key: constant.
    let (t0, v0) = keys[0];
    if a < t0 {
        acc += v0 * (b.min(t0) - a);
    }
    // Segments [keys[i], keys[i+1]] that overlap [a, b].
    let start = keys.partition_point(|k| k.0 <= a).saturating_sub(1);
    for i in start..n.saturating_sub(1) {
        let (ta, va) = keys[i];
        let (tb, vb) = keys[i + 1];
        if ta >= b {
            break;
        }
        let (s0, s1) = (a.max(ta), b.min(tb));
        if s1 <= s0 || tb <= ta {
            continue;
        }
        let slope = (vb - va) / (tb - ta);
        // Trapezoid between the line's values at s0 and s1.
        let (p0, p1) = (va + slope * (s0 - ta), va + slope * (s1 - ta));
        acc += 0.5 * (p0 + p1) * (s1 - s0);
    }
    // After the last key: constant.
    let (tl, vl) = keys[n - 1];
    if b > tl {
        acc += vl * (b - a.max(tl));
    }
    acc
}

/// The polyline through `keys` averaged over a window of `width` centred on `t` (a box filter).
/// This rounds every corner into a parabola (constant acceleration over `width`: an ease-out then
/// ease-in), leaves straight and still parts exactly as they are, and moves a corner where the
/// velocity changes by `dv` by at most `|dv| * width / 8`.
pub fn eased_at(keys: &[(f64, f64)], width: f64, t: f64) -> f64 {
    if keys.is_empty() {
        return 0.0;
    }
    if width <= 0.0 {
        return polyline_at(keys, t);
    }
    let (a, b) = (t - width / 2.0, t + width / 2.0);
    // A window with no key strictly inside averages a straight line: its middle value, computed
    // exactly so that still parts stay bit-exact.
    let ia = keys.partition_point(|k| k.0 <= a);
    let ib = keys.partition_point(|k| k.0 < b);
    if ia == ib {
        return polyline_at(keys, t);
    }
    integral_between(keys, a, b) / width
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_inside(t: &[f64], lo: &[f64], hi: &[f64], keys: &[(f64, f64)]) {
        for i in 0..t.len() {
            let v = polyline_at(keys, t[i]);
            assert!(v >= lo[i] - 1e-9 && v <= hi[i] + 1e-9, "sample {i}: {v} not in [{}, {}]; {keys:?}", lo[i], hi[i]);
        }
    }

    #[test]
    fn constant_when_a_constant_fits() {
        let t: Vec<f64> = (0..50).map(|i| i as f64).collect();
        let lo: Vec<f64> = (0..50).map(|i| 90.0 + (i % 3) as f64).collect();
        let hi: Vec<f64> = (0..50).map(|i| 110.0 - (i % 4) as f64).collect();
        let keys = taut_string(&t, &lo, &hi, 100.0);
        assert_eq!(keys, vec![(0.0, 100.0), (49.0, 100.0)]);
        // The preferred level is clamped into the common interval [92, 107].
        assert_eq!(taut_string(&t, &lo, &hi, 0.0)[0].1, 92.0);
    }

    #[test]
    fn a_ramp_gives_still_pan_still() {
        // A subject at 0 until t=10, moving at 10/unit until t=30, then at 200: band = pos +- 5.
        let t: Vec<f64> = (0..=40).map(|i| i as f64).collect();
        let pos = |x: f64| {
            if x < 10.0 {
                0.0
            } else if x < 30.0 {
                10.0 * (x - 10.0)
            } else {
                200.0
            }
        };
        let lo: Vec<f64> = t.iter().map(|&x| pos(x) - 5.0).collect();
        let hi: Vec<f64> = t.iter().map(|&x| pos(x) + 5.0).collect();
        let keys = taut_string(&t, &lo, &hi, 0.0);
        check_inside(&t, &lo, &hi, &keys);
        // Flat at 5 (the highest level the start allows), then one straight pan, then flat at 195.
        assert_eq!(keys.first().unwrap().1, 5.0);
        assert_eq!(keys.last().unwrap().1, 195.0);
        assert_eq!(keys.len(), 4, "{keys:?}");
        // Monotone: no reversal.
        assert!(keys.windows(2).all(|w| w[1].1 >= w[0].1));
    }

    #[test]
    fn a_winding_corridor_reverses_only_where_it_must() {
        let t: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let centre: Vec<f64> = t.iter().map(|&x| 50.0 * (x / 15.0).sin()).collect();
        let lo: Vec<f64> = centre.iter().map(|c| c - 8.0).collect();
        let hi: Vec<f64> = centre.iter().map(|c| c + 8.0).collect();
        let keys = taut_string(&t, &lo, &hi, 0.0);
        check_inside(&t, &lo, &hi, &keys);
        // The corridor turns twice (at t = 23.6 and 70.7): the string reverses at most twice.
        let mut reversals = 0;
        let mut last = 0.0f64;
        for w in keys.windows(2) {
            let s = (w[1].1 - w[0].1).signum();
            if w[1].1 != w[0].1 {
                if last != 0.0 && s != last {
                    reversals += 1;
                }
                last = s;
            }
        }
        assert_eq!(reversals, 2, "{keys:?}");
    }

    #[test]
    fn the_string_is_shorter_than_any_other_feasible_path() {
        // Random corridors: the taut string's total |slope| and squared slope are no larger than
        // those of the corridor's centre line, which is also feasible.
        let mut seed = 12345u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 10_000) as f64 / 10_000.0
        };
        for _ in 0..50 {
            let n = 30;
            let t: Vec<f64> = (0..n).map(|i| i as f64 + rnd() * 0.5).collect();
            let mut c = 0.0;
            let mut lo = Vec::new();
            let mut hi = Vec::new();
            for _ in 0..n {
                c += (rnd() - 0.5) * 20.0;
                let w = 1.0 + rnd() * 10.0;
                lo.push(c - w);
                hi.push(c + w);
            }
            let keys = taut_string(&t, &lo, &hi, 0.0);
            check_inside(&t, &lo, &hi, &keys);
            let energy = |f: &dyn Fn(f64) -> f64| -> f64 {
                (0..n - 1)
                    .map(|i| {
                        let s = (f(t[i + 1]) - f(t[i])) / (t[i + 1] - t[i]);
                        s * s * (t[i + 1] - t[i])
                    })
                    .sum()
            };
            let string = energy(&|x| polyline_at(&keys, x));
            let centre_keys: Vec<(f64, f64)> = (0..n).map(|i| (t[i], (lo[i] + hi[i]) / 2.0)).collect();
            let centre = energy(&|x| polyline_at(&centre_keys, x));
            assert!(string <= centre + 1e-9, "{string} > {centre}");
        }
    }

    #[test]
    fn easing_keeps_still_parts_exact_and_rounds_corners() {
        let keys = vec![(0.0, 100.0), (10.0, 100.0), (20.0, 200.0), (30.0, 200.0)];
        // Far from the corners: exact.
        assert_eq!(eased_at(&keys, 2.0, 5.0), 100.0);
        assert_eq!(eased_at(&keys, 2.0, 25.0), 200.0);
        assert_eq!(eased_at(&keys, 2.0, 15.0), 150.0);
        assert_eq!(eased_at(&keys, 2.0, -50.0), 100.0);
        // At a corner: moved by |dv| * width / 8 = 10 * 2 / 8.
        assert!((eased_at(&keys, 2.0, 10.0) - 102.5).abs() < 1e-9);
        assert!((eased_at(&keys, 2.0, 20.0) - 197.5).abs() < 1e-9);
        // Continuous across the window edges.
        assert!((eased_at(&keys, 2.0, 9.0) - 100.0).abs() < 1e-9);
        assert!((eased_at(&keys, 2.0, 11.0) - 110.0).abs() < 1e-9);
    }
}
