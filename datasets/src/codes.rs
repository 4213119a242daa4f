//! Check digits of the codes that identify organisations and people: the unified social credit
//! code (统一社会信用代码, GB 32100-2015), its embedded organisation code (GB 11714-1997) and the
//! resident ID number (GB 11643-1999). The generator makes valid ones; ingest validates with the same
//! functions.

use crate::rng::Rng;

const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

fn uscc_value(c: u8) -> Option<u32> {
    USCC_CHARS.iter().position(|&x| x == c).map(|p| p as u32)
}

/// The 18th character of a unified social credit code whose first 17 characters are `body`,
/// or `None` when `body` is not 17 characters of the code's alphabet.
pub fn uscc_check_char(body: &str) -> Option<char> {
    let bytes = body.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (b, w) in bytes.iter().zip(USCC_WEIGHTS) {
        sum += uscc_value(*b)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(USCC_CHARS[check as usize] as char)
}

/// Whether `code` is an 18-character unified social credit code with a correct check character.
pub fn uscc_is_valid(code: &str) -> bool {
    code.len() == 18
        && code.is_char_boundary(17)
        && uscc_check_char(&code[..17]) == code[17..].chars().next()
}

/// The check character of an organisation code (组织机构代码) from its 8-character body.
fn org_code_check_char(body: &[u8; 8]) -> char {
    let sum: u32 = body
        .iter()
        .zip(ORG_WEIGHTS)
        .map(|(b, w)| {
            let v = if b.is_ascii_digit() {
                b - b'0'
            } else {
                b - b'A' + 10
            };
            u32::from(v) * w
        })
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from(b'0' + d as u8),
    }
}

/// A valid unified social credit code: `authority` and `kind` are its first two characters
/// (`8`,`1` for a grassroots union; `9`,`1` for a company), `region` the 6-digit county code.
pub fn make_uscc(rng: &mut Rng, authority: char, kind: char, region: &str) -> String {
    let mut body = [0u8; 8];
    for b in &mut body {
        *b = b'0' + rng.range(0, 9) as u8;
    }
    let org = org_code_check_char(&body);
    let mut code = format!("{authority}{kind}{region}");
    code.extend(body.iter().map(|&b| b as char));
    code.push(org);
    // The organisation code's own check may be 'X', which is outside the USCC alphabet.
    if uscc_check_char(&code).is_none() {
        code.pop();
        code.push('0');
    }
    let check = uscc_check_char(&code).unwrap_or('0');
    code.push(check);
    code
}

/// The 18th character of a resident ID number whose first 17 digits are `body`.
pub fn id_check_char(body: &str) -> Option<char> {
    let bytes = body.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(ID_CHECK[(sum % 11) as usize] as char)
}

/// Whether `id` is an 18-character resident ID number with a correct check character.
pub fn id_is_valid(id: &str) -> bool {
    id.len() == 18 && id.is_char_boundary(17) && id_check_char(&id[..17]) == id[17..].chars().next()
}

/// A synthetic, checksum-valid resident ID number registered in `region`, born on the date given;
/// the sequence number's parity carries the sex as the standard prescribes.
pub fn make_id_number(rng: &mut Rng, region: &str, birth: (i32, u32, u32), female: bool) -> String {
    let mut seq = rng.range(0, 999) as u32;
    if seq.is_multiple_of(2) != female {
        seq = (seq + 1) % 1000;
    }
    let body = format!("{region}{:04}{:02}{:02}{seq:03}", birth.0, birth.1, birth.2);
    let check = id_check_char(&body).unwrap_or('0');
    format!("{body}{check}")
}

/// A plausible mainland mobile number.
pub fn make_mobile(rng: &mut Rng) -> String {
    const PREFIXES: [&str; 12] = [
        "133", "135", "136", "137", "138", "139", "150", "151", "158", "159", "180", "189",
    ];
    format!("{}{:08}", rng.pick(&PREFIXES), rng.range(0, 99_999_999))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_check_out() {
        // Published examples of each standard.
        assert!(uscc_is_valid("91350100M000100Y43"));
        assert!(!uscc_is_valid("91350100M000100Y44"));
        assert!(id_is_valid("11010519491231002X"));
        assert!(!id_is_valid("110105194912310021"));
    }

    #[test]
    fn generated_codes_are_valid() {
        let mut rng = Rng::for_part(1, "codes");
        for _ in 0..1000 {
            let uscc = make_uscc(&mut rng, '8', '1', "350802");
            assert!(uscc_is_valid(&uscc), "{uscc}");
            assert!(uscc.starts_with("81350802"));
            let id = make_id_number(&mut rng, "350802", (1980, 2, 29), true);
            assert!(id_is_valid(&id), "{id}");
            assert_eq!((id.as_bytes()[16] - b'0') % 2, 0);
        }
    }
}
