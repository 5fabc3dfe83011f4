//! The master key: encrypts signing keys at rest with AES-256-GCM (ring).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::ExposeSecret;

use crate::settings::SecretSettings;

pub struct MasterKey(LessSafeKey);

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
        Ok(MasterKey(LessSafeKey::new(key)))
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
        self.0
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
            .0
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
