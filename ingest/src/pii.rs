//! Personal data: ID numbers are replaced by a keyed hash (HMAC-SHA-256-128) before anything is
//! written or logged, so rows can still be linked across returns but the number cannot be read
//! back; phone numbers are masked.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret that keys ID-number hashes, held as HMAC-SHA-256 already keyed (RFC 2104: the
/// SHA-256 states after the key XOR ipad and opad blocks), so that an ID number costs a clone
/// of that state and two block compressions.
#[derive(Clone)]
pub struct HashKey {
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKey(..)")
    }
}

/// Number of bytes in an ID hash: HMAC-SHA-256 truncated to 128 bits, as in RFC 4868's
/// HMAC-SHA-256-128. Ample to tell apart the people of any province, half the bytes of the whole
/// MAC in every row of the lake.
pub const ID_HASH_BYTES: usize = 16;

impl HashKey {
    /// A key from its bytes (at least 16).
    pub fn new(bytes: Vec<u8>) -> Option<Self> {
        if bytes.len() < 16 {
            return None;
        }
        let keyed = Hmac::<Sha256>::new_from_slice(&bytes).ok()?;
        Some(HashKey { keyed })
    }

    /// HMAC-SHA-256 of `message` under this key.
    fn mac(&self, message: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// The keyed hash of an ID number, as stored in the lake. The number is upper-cased first so
    /// that `x` and `X` check characters hash alike.
    pub fn hash_id(&self, id_number: &str) -> [u8; ID_HASH_BYTES] {
        let id = id_number.trim();
        let mac = if id.is_ascii() && id.len() <= 64 {
            // The usual case: upper-cased on the stack, no allocation.
            let mut upper = [0u8; 64];
            for (b, c) in upper.iter_mut().zip(id.bytes()) {
                *b = c.to_ascii_uppercase();
            }
            self.mac(&upper[..id.len()])
        } else {
            self.mac(id.to_uppercase().as_bytes())
        };
        let mut hash = [0u8; ID_HASH_BYTES];
        hash.copy_from_slice(&mac[..ID_HASH_BYTES]);
        hash
    }

    /// How an ID number is shown in messages and quarantine: `id:` and the first 8 bytes of its
    /// hash in hex, which an analyst finds in the lake with
    /// `starts_with(encode(id_number_hash, 'hex'), '…')`.
    pub fn id_label(&self, id_number: &str) -> String {
        let mut label = String::from("id:");
        for b in &self.hash_id(id_number)[..8] {
            label.push_str(&format!("{b:02x}"));
        }
        label
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
            out.push_str(&key.id_label(&id));
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
        let text = redact(&format!("身份证号 {id} 有误"), &key);
        assert_eq!(text, format!("身份证号 {} 有误", key.id_label(id)));
        assert_eq!(key.id_label(id).len(), 3 + 16);
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("0597-2291234"), "0597*****34");
    }

    /// RFC 4231's HMAC-SHA-256 test cases 1, 6 and 7: a short key and message, a key longer than
    /// a block, and a message longer than a block.
    #[test]
    fn the_mac_is_hmac_sha256() {
        let hex = |mac: [u8; 32]| mac.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let key = HashKey::new(vec![0x0b; 20]).expect("a key");
        assert_eq!(
            hex(key.mac(b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        let long = HashKey::new(vec![0xaa; 131]).expect("a key");
        assert_eq!(
            hex(long.mac(b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        let message = "This is a test using a larger than block-size key and a larger than block-size \
                       data. The key needs to be hashed before being used by the HMAC algorithm.";
        assert_eq!(
            hex(long.mac(message.as_bytes())),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        );
        let id = "11010519491231002X";
        assert_eq!(key.hash_id(id), key.mac(id.as_bytes())[..ID_HASH_BYTES]);
        assert!(hex(key.mac(id.as_bytes())).starts_with(&key.id_label(id)[3..]));
    }
}
