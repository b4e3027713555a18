//! Exact decimal arithmetic on DynamoDB numbers (38 significant digits, magnitudes from
//! 1E-130 to 9.99…E+125), for `ADD` and `SET a = b + c`.

use std::cmp::Ordering;

use crate::limits::canonical_number;

pub(super) const OVERFLOW: &str =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
pub(super) const UNDERFLOW: &str =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";

/// Significant digits of a DynamoDB number.
const MAX_DIGITS: usize = 38;

/// `a + b` on DynamoDB numbers, exactly, in canonical form (see [`canonical_number`]).
///
/// Fails as DynamoDB does when the sum does not fit a DynamoDB number: more than 38
/// significant digits or a magnitude above 9.99…E+125 (`Number overflow…`, DynamoDB's message
/// for both), or below 1E-130 (`Number underflow…`); and on an operand that is not a valid
/// DynamoDB number.
pub fn add_numbers(a: &str, b: &str) -> Result<String, String> {
    Decimal::parse(a)?
        .plus(&Decimal::parse(b)?)
        .checked()
        .map(|n| n.to_text())
        .map_err(str::to_owned)
}

/// `a - b` on DynamoDB numbers, as [`add_numbers`].
pub fn subtract_numbers(a: &str, b: &str) -> Result<String, String> {
    Decimal::parse(a)?
        .plus(&Decimal::parse(b)?.negated())
        .checked()
        .map(|n| n.to_text())
        .map_err(str::to_owned)
}

/// How two DynamoDB numbers compare by value; `None` if either is not a valid number.
pub(in crate::expression) fn compare_numbers(a: &str, b: &str) -> Option<Ordering> {
    let difference = Decimal::parse(a)
        .ok()?
        .plus(&Decimal::parse(b).ok()?.negated());
    Some(match (difference.digits.is_empty(), difference.negative) {
        (true, _) => Ordering::Equal,
        (false, true) => Ordering::Less,
        (false, false) => Ordering::Greater,
    })
}

/// An exact decimal: `digits × 10^exponent`, with a sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Decimal {
    negative: bool,
    /// Decimal digits (0–9), most significant first, without leading or trailing zeros;
    /// empty for zero.
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    pub(super) fn zero() -> Decimal {
        Decimal {
            negative: false,
            digits: Vec::new(),
            exponent: 0,
        }
    }

    /// Reads a DynamoDB number; its magnitude is bounded, so aligning two of them for an
    /// addition takes a few hundred digits at most.
    pub(super) fn parse(text: &str) -> Result<Decimal, String> {
        let plain = canonical_number(text)?;
        let (negative, body) = match plain.strip_prefix('-') {
            Some(body) => (true, body),
            None => (false, plain.as_str()),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        let digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
        Ok(Decimal {
            negative,
            digits,
            exponent: -(frac.len() as i64),
        }
        .normalized())
    }

    /// Strips leading and trailing zeros; zero has no sign.
    pub(super) fn normalized(mut self) -> Decimal {
        let leading = self.digits.iter().take_while(|&&d| d == 0).count();
        self.digits.drain(..leading);
        while self.digits.last() == Some(&0) {
            self.digits.pop();
            self.exponent += 1;
        }
        if self.digits.is_empty() {
            return Decimal::zero();
        }
        self
    }

    pub(super) fn negated(mut self) -> Decimal {
        self.negative = !self.negative && !self.digits.is_empty();
        self
    }

    pub(super) fn plus(&self, other: &Decimal) -> Decimal {
        if self.digits.is_empty() {
            return other.clone();
        }
        if other.digits.is_empty() {
            return self.clone();
        }
        let exponent = self.exponent.min(other.exponent);
        let aligned = |n: &Decimal| {
            let mut digits = n.digits.clone();
            digits.resize(n.digits.len() + (n.exponent - exponent) as usize, 0);
            digits
        };
        let (a, b) = (aligned(self), aligned(other));
        let (negative, digits) = if self.negative == other.negative {
            (self.negative, add_magnitudes(&a, &b))
        } else {
            match compare_magnitudes(&a, &b) {
                Ordering::Equal => return Decimal::zero(),
                Ordering::Greater => (self.negative, subtract_magnitudes(&a, &b)),
                Ordering::Less => (other.negative, subtract_magnitudes(&b, &a)),
            }
        };
        Decimal {
            negative,
            digits,
            exponent,
        }
        .normalized()
    }

    /// The number if DynamoDB can store it, else DynamoDB's error.
    ///
    /// ASSUMPTION: DynamoDB reports a result with more than 38 significant digits with its
    /// overflow message (Alternator's `test_update_expression_plus_imprecise` saw it for
    /// `1e50 + 1`; DynamoDB Local is said to answer "DynamoDB only supports precision up to
    /// 38 digits"), and a result below 1E-130 with its underflow message.
    pub(super) fn checked(self) -> Result<Decimal, &'static str> {
        if self.digits.is_empty() {
            return Ok(self);
        }
        let magnitude = self.exponent + self.digits.len() as i64 - 1;
        if self.digits.len() > MAX_DIGITS || magnitude > 125 {
            return Err(OVERFLOW);
        }
        if magnitude < -130 {
            return Err(UNDERFLOW);
        }
        Ok(self)
    }

    /// Plain decimal text, as [`canonical_number`] spells it.
    ///
    /// ASSUMPTION: a zero result is `0`; DynamoDB Local is reported to print `1E-130 - 1E-130`
    /// with the operands' scale, as `0.000…0`.
    pub(super) fn to_text(&self) -> String {
        if self.digits.is_empty() {
            return "0".to_owned();
        }
        let digits: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        let mut out = String::with_capacity(digits.len() + 8);
        if self.negative {
            out.push('-');
        }
        if self.exponent >= 0 {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', self.exponent as usize));
        } else {
            let point = digits.len() as i64 + self.exponent;
            if point > 0 {
                out.push_str(&digits[..point as usize]);
                out.push('.');
                out.push_str(&digits[point as usize..]);
            } else {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', (-point) as usize));
                out.push_str(&digits);
            }
        }
        out
    }
}

/// Compares two magnitudes without leading zeros.
fn compare_magnitudes(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn add_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let (mut i, mut j, mut carry) = (a.len(), b.len(), 0);
    while i > 0 || j > 0 || carry > 0 {
        let mut sum = carry;
        if i > 0 {
            i -= 1;
            sum += a[i];
        }
        if j > 0 {
            j -= 1;
            sum += b[j];
        }
        out.push(sum % 10);
        carry = sum / 10;
    }
    out.reverse();
    out
}

/// `a - b` for `a >= b`.
fn subtract_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let (mut j, mut borrow) = (b.len(), 0i8);
    for &digit in a.iter().rev() {
        let mut d = digit as i8 - borrow;
        if j > 0 {
            j -= 1;
            d -= b[j] as i8;
        }
        borrow = i8::from(d < 0);
        out.push((d + 10 * borrow) as u8);
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_arithmetic_is_exact() {
        let top = format!("2{}", "0".repeat(125));
        let tiny = format!("0.{}1", "0".repeat(129)); // 1E-130
        for (a, b, sum) in [
            ("1", "2", "3"),
            ("0.1", "0.2", "0.3"),
            ("-1", "1", "0"),
            ("1e-130", "-1e-130", "0"),
            (
                "99999999999999999999999999999999999999",
                "-99999999999999999999999999999999999998",
                "1",
            ),
            (
                "9.9999999999999999999999999999999999999E+125",
                "-9.9999999999999999999999999999999999999E+125",
                "0",
            ),
            ("1e125", "1e125", &top),
            ("-0.5", "0.25", "-0.25"),
            ("123.456", "-0.456", "123"),
            ("1E-129", "-9E-130", &tiny),
        ] {
            assert_eq!(add_numbers(a, b).unwrap(), sum, "{a} + {b}");
            assert_eq!(add_numbers(b, a).unwrap(), sum, "{b} + {a}");
        }
        assert_eq!(subtract_numbers("10", "0.001").unwrap(), "9.999");
        assert_eq!(subtract_numbers("-10", "-10").unwrap(), "0");
        assert_eq!(subtract_numbers("0", "5").unwrap(), "-5");
        assert_eq!(add_numbers("1e50", "1").unwrap_err(), OVERFLOW);
        assert_eq!(add_numbers("9e125", "1e125").unwrap_err(), OVERFLOW);
        // 38 digits, then a 39th.
        assert_eq!(
            add_numbers("1e37", "1").unwrap(),
            format!("1{}1", "0".repeat(36))
        );
        assert_eq!(add_numbers("1e38", "1").unwrap_err(), OVERFLOW);
        // 1.0…01E-93 has 38 digits, its last at 1E-130: taking 1E-93 away leaves 1E-130.
        let low = format!("1.{}1E-93", "0".repeat(36));
        assert_eq!(subtract_numbers(&low, "1e-93").unwrap(), tiny);
        let lower = format!("1.{}1E-94", "0".repeat(36));
        assert_eq!(subtract_numbers(&lower, "1e-94").unwrap_err(), UNDERFLOW);
        assert!(add_numbers("x", "1")
            .unwrap_err()
            .contains("is not a DynamoDB number"));
    }
}
