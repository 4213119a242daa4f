//! Personal data: ID numbers are replaced by a keyed hash (HMAC-SHA256) before anything is
//! written or logged, so rows can still be linked across returns but the number cannot be read
//! back; phone numbers are masked.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret that keys ID-number hashes, held as an HMAC already keyed with it.
#[derive(Clone)]
pub struct HashKey(Hmac<Sha256>);

impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKey(..)")
    }
}

impl HashKey {
    /// A key from its bytes (at least 16).
    pub fn new(bytes: Vec<u8>) -> Option<Self> {
        if bytes.len() < 16 {
            return None;
        }
        Hmac::new_from_slice(&bytes).ok().map(HashKey)
    }

    /// The keyed hash of an ID number, as 64 hex digits. The number is upper-cased first so that
    /// `x` and `X` check characters hash alike.
    pub fn hash_id(&self, id_number: &str) -> String {
        self.hash_id_hex(id_number).as_str().to_string()
    }

    /// [`HashKey::hash_id`] without an allocation, for validating millions of rows.
    pub fn hash_id_hex(&self, id_number: &str) -> HexHash {
        let id = id_number.trim();
        let mut mac = self.0.clone();
        if id.chars().any(char::is_lowercase) {
            mac.update(id.to_uppercase().as_bytes());
        } else {
            mac.update(id.as_bytes());
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 64];
        for (i, b) in mac.finalize().into_bytes().into_iter().enumerate() {
            hex[2 * i] = HEX[usize::from(b >> 4)];
            hex[2 * i + 1] = HEX[usize::from(b & 15)];
        }
        HexHash(hex)
    }
}

/// An ID number's keyed hash as 64 lower-case hex digits.
pub struct HexHash([u8; 64]);

impl HexHash {
    /// The hex digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into the array.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A phone number with its middle hidden: `138****5678`; landlines keep the area code and the last
/// two digits.
pub fn mask_phone(phone: &str) -> String {
    let all_digits = phone.bytes().all(|b| b.is_ascii_digit());
    let digits: std::borrow::Cow<'_, str> = if all_digits {
        phone.into()
    } else {
        phone
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .into()
    };
    match digits.len() {
        11 if digits.starts_with('1') => {
            let mut masked = String::with_capacity(11);
            masked.push_str(&digits[..3]);
            masked.push_str("****");
            masked.push_str(&digits[7..]);
            masked
        }
        n if n >= 6 => format!(
            "{}{}{}",
            &digits[..n.min(4)],
            "*".repeat(n - n.min(4) - 2),
            &digits[n - 2..]
        ),
        _ => "*".repeat(digits.len()),
    }
}

/// Masks every ID number (18 characters, 17 digits and a check digit or X) inside free text, for
/// raw values kept in quarantine and for messages.
pub fn redact(text: &str, key: &HashKey) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let window = chars.get(i..i + 18);
        let is_id = window.is_some_and(|w| {
            w[..17].iter().all(char::is_ascii_digit)
                && (w[17].is_ascii_digit() || w[17] == 'X' || w[17] == 'x')
        }) && chars.get(i + 18).is_none_or(|c| !c.is_ascii_digit())
            && (i == 0 || !chars[i - 1].is_ascii_digit());
        if is_id {
            let id: String = chars[i..i + 18].iter().collect();
            out.push_str("id:");
            out.push_str(&key.hash_id(&id)[..16]);
            i += 18;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The ID-hash key: from `UNIONSTAT_ID_HASH_KEY` (text of at least 16 characters) if set, else
/// from the file at `path`, created with 32 random bytes (readable by its owner only) on first use.
/// The same key must be used for every ingest into a lake, or hashes of one person will differ.
pub fn load_or_create_key(path: &std::path::Path) -> std::io::Result<HashKey> {
    if let Ok(text) = std::env::var("UNIONSTAT_ID_HASH_KEY") {
        return HashKey::new(text.into_bytes()).ok_or_else(|| {
            std::io::Error::other("UNIONSTAT_ID_HASH_KEY must be at least 16 characters long")
        });
    }
    if let Ok(bytes) = std::fs::read(path) {
        return HashKey::new(bytes).ok_or_else(|| {
            std::io::Error::other(format!("{} holds fewer than 16 bytes", path.display()))
        });
    }
    let mut bytes = vec![0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, &bytes)?;
    HashKey::new(bytes).ok_or_else(|| std::io::Error::other("key too short"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_hash_stably_and_never_appear() {
        let key = HashKey::new(b"0123456789abcdef0123".to_vec()).expect("a key");
        let other = HashKey::new(b"another key of 16+ bytes".to_vec()).expect("a key");
        let id = "11010519491231002X";
        assert_eq!(key.hash_id(id), key.hash_id("11010519491231002x"));
        assert_ne!(key.hash_id(id), other.hash_id(id));
        assert_eq!(key.hash_id(id).len(), 64);
        let text = redact(&format!("身份证号 {id} 有误"), &key);
        assert!(!text.contains(id) && text.contains("id:"), "{text}");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("0597-2291234"), "0597*****34");
    }
}
