//! The master key: encrypts signing keys at rest with AES-256-GCM (ring).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use ring::{hkdf, hmac};
use secrecy::ExposeSecret;

use crate::settings::SecretSettings;

pub struct MasterKey {
    sealing: LessSafeKey,
    /// HKDF-SHA256 of the same bytes, from which keys for other purposes are
    /// derived, so the master key itself is never used twice.
    derivation: hkdf::Prk,
}

impl MasterKey {
    pub fn from_base64(encoded: &str) -> anyhow::Result<Self> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .context("the master key is not valid base64")?;
        anyhow::ensure!(
            bytes.len() == 32,
            "the master key must be 32 bytes, got {}",
            bytes.len()
        );
        let key = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| anyhow::anyhow!("unusable AES-256 key"))?;
        let derivation = hkdf::Salt::new(hkdf::HKDF_SHA256, b"latchkey master key").extract(&bytes);
        Ok(MasterKey {
            sealing: LessSafeKey::new(key),
            derivation,
        })
    }

    /// An HMAC-SHA256 key for one `purpose`, the same on every replica that
    /// shares this master key, and unrelated to the key for any other purpose.
    pub fn derive_hmac_key(&self, purpose: &str) -> hmac::Key {
        let info = [purpose.as_bytes()];
        let okm = self
            .derivation
            .expand(&info, hmac::HMAC_SHA256)
            .expect("an HMAC-SHA256 key is a valid HKDF output length");
        hmac::Key::from(okm)
    }

    /// Takes `secrets.master_key`, else reads `secrets.master_key_file`, else
    /// generates that file (mode 0600) and warns: every replica needs the same key.
    pub fn load_or_create(settings: &SecretSettings) -> anyhow::Result<Self> {
        let inline = settings.master_key.expose_secret();
        if !inline.is_empty() {
            return Self::from_base64(inline).context("invalid setting secrets.master_key");
        }
        let path = &settings.master_key_file;
        if path.exists() {
            let encoded = std::fs::read_to_string(path).with_context(|| {
                format!("cannot read secrets.master_key_file {}", path.display())
            })?;
            return Self::from_base64(&encoded).with_context(|| {
                format!(
                    "invalid master key in secrets.master_key_file {}",
                    path.display()
                )
            });
        }
        let encoded = generate_key_file(path)?;
        tracing::warn!(
            path = %path.display(),
            "no master key configured: generated one. Back it up, and give every replica the same key \
             (secrets.master_key or secrets.master_key_file)"
        );
        Self::from_base64(&encoded)
    }

    /// Returns nonce || ciphertext || tag. `context` binds the ciphertext to its row.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| anyhow::anyhow!("no randomness available"))?;
        let mut in_out = plaintext.to_vec();
        self.sealing
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut in_out,
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&in_out);
        Ok(sealed)
    }

    pub fn open(&self, sealed: &[u8], context: &[u8]) -> anyhow::Result<Vec<u8>> {
        anyhow::ensure!(sealed.len() > NONCE_LEN, "ciphertext too short");
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .sealing
            .open_in_place(nonce, Aad::from(context), &mut in_out)
            .map_err(|_| {
                anyhow::anyhow!("decryption failed: wrong master key or corrupted data")
            })?;
        Ok(plain.to_vec())
    }
}

fn generate_key_file(path: &Path) -> anyhow::Result<String> {
    let mut key = [0u8; 32];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| anyhow::anyhow!("no randomness available"))?;
    let encoded = STANDARD.encode(key);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private_files::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create secrets.master_key_file {}", path.display()))?;
    file.write_all(encoded.as_bytes())?;
    file.sync_all()?;
    Ok(encoded)
}
