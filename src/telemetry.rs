//! The tracing subscriber: pretty or JSON, to stderr (stdout is the CLI's).

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::settings::{LogFormat, LogSettings};

mod json_lines;
pub use json_lines::{JsonLines, SpanFields};

/// Installs the global subscriber. `RUST_LOG` overrides `log.level`.
pub fn init<W>(settings: &LogSettings, writer: W) -> anyhow::Result<()>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    // sea-orm-migration reports "no pending migrations" at info on every
    // command; that is noise for ops, so it is quieter unless asked for.
    let level = if settings.level.contains("sea_orm_migration") {
        settings.level.clone()
    } else {
        format!("{},sea_orm_migration=warn", settings.level)
    };
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&level))
        .map_err(|e| anyhow::anyhow!("invalid setting log.level: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let result = match settings.format {
        // The stock JSON lines (event fields flattened, current span and
        // span list), written without a detour through serde_json values.
        LogFormat::Json => builder
            .json()
            .fmt_fields(SpanFields)
            .event_format(JsonLines)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot install the log subscriber: {e}"))
}
