//! Branch-free elementwise math for the hot loops (gelu, attention's softmax): no call
//! and no branch, so a loop over a slice of it vectorizes, where libm's `expf` is a call
//! per element, and a slow one on underflow (masked attention logits all underflow).

/// `e^x` to about 1 ulp, without branches or calls: Cephes' `expf` (range reduction by
/// `ln 2` in two parts, a degree-6 polynomial) with `2^n` written into the exponent bits.
/// Below -87.33 (where `e^x` leaves the normal range) it is 0; above 88 it is ∞ (a little
/// early: `e^88.7` is still finite), which none of its callers can tell apart; NaN stays NaN.
#[inline]
pub(crate) fn exp(x: f32) -> f32 {
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const LOWEST: f32 = -87.33;
    const HIGHEST: f32 = 88.0;
    let clamped = x.clamp(LOWEST, HIGHEST);
    // `n + 1.5·2²³` holds the integer `n` in its low mantissa bits.
    let shifted = clamped * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = clamped - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_2e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e = p * (r * r) + r + 1.0;
    // `2^n` from `n`'s bits, not `n as i32` (a saturating conversion that does not
    // vectorize). `n` is in [-126, 127] after the clamp, so `2^n` is a normal number; a
    // NaN `x` makes `e` NaN whatever the bits.
    let biased = shifted
        .to_bits()
        .wrapping_sub(ROUND.to_bits())
        .wrapping_add(127);
    let e = e * f32::from_bits(biased << 23);
    if x < LOWEST {
        0.0
    } else if x > HIGHEST {
        f32::INFINITY
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::exp;

    /// Within 2 ulp of the f64 exponential across the normal range, 0 and ∞ beyond it.
    #[test]
    fn exp_matches_f64() {
        let mut x = -87.3f32;
        while x < 88.0 {
            let want = f64::from(x).exp();
            let got = f64::from(exp(x));
            let ulp = f64::from(f32::EPSILON) * want;
            assert!(
                (got - want).abs() <= 2.0 * ulp,
                "exp({x}) = {got}, want {want}"
            );
            x += 0.0137;
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-88.0), 0.0);
        assert_eq!(exp(-1e30), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(89.0), f32::INFINITY);
        assert!(exp(f32::NAN).is_nan());
    }
}
