//! A small seedable RNG (SplitMix64) for reproducible IDs and fault decisions.

#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn state(&self) -> u64 {
        self.state
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        // 53 random bits, the precision of an f64 mantissa.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `len` characters of lower-case letters and digits, as Alibaba Cloud IDs use.
    pub fn base36(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        (0..len)
            .map(|_| char::from(ALPHABET[(self.next_u64() % ALPHABET.len() as u64) as usize]))
            .collect()
    }
}

/// The two-letter infix Alibaba Cloud puts in load-balancer IDs for a region (`lb-bp…` is cn-hangzhou).
pub fn region_infix(region_id: &str) -> &'static str {
    match region_id {
        "cn-hangzhou" => "bp",
        "cn-shanghai" => "uf",
        "cn-beijing" => "2z",
        "cn-shenzhen" => "wz",
        "ap-southeast-1" => "t4",
        "us-east-1" => "0x",
        "eu-central-1" => "gw",
        _ => "1a",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproducible_and_in_range() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        assert_eq!(a.base36(20), b.base36(20));
        for _ in 0..1000 {
            let x = a.next_f64();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
