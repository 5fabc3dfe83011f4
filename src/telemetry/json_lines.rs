//! `JsonLines` and `SpanFields`: the JSON log line, written straight into
//! the line.
//!
//! Together they write what tracing-subscriber's own JSON format writes
//! with `flatten_event(true)` and `with_current_span(true)`: the same keys,
//! in the same order, the same values. Only the way differs. The stock
//! format parses every span's stored fields back into a `serde_json::Value`
//! and serializes them again, for `span` and again for `spans`, through an
//! `io::Write` adaptor that checks every piece for UTF-8; that was about a
//! third of a warm introspection's instructions. Here the stored fields
//! (already a JSON object) are copied as they are. The stock span fields
//! (`JsonFields`) go through a `serde_json::Value` map too; `SpanFields`
//! writes the same object directly.

use std::collections::BTreeMap;
use std::fmt::{self, Write};
use std::ops::Range;

use tracing::field::{Field, Visit};
use tracing::span::Record;
use tracing::{Event, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

#[derive(Debug, Default, Clone, Copy)]
pub struct JsonLines;

impl<S> FormatEvent<S, SpanFields> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, SpanFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        use tracing_log::NormalizeEvent;
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());

        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut writer)?;
        write!(writer, "\",\"level\":\"{}\"", meta.level().as_str())?;
        let mut fields = FieldsVisitor {
            writer: &mut writer,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_str(",\"target\":")?;
        write_str(&mut writer, meta.target())?;

        let current = event
            .parent()
            .and_then(|id| ctx.span(id))
            .or_else(|| ctx.lookup_current());
        if let Some(span) = &current {
            writer.write_str(",\"span\":")?;
            write_span(&mut writer, span)?;
            // As the stock format: the list is of the context's current
            // span and its parents, root first.
            writer.write_str(",\"spans\":[")?;
            if let Some(leaf) = ctx.lookup_current() {
                for (i, span) in leaf.scope().from_root().enumerate() {
                    if i > 0 {
                        writer.write_char(',')?;
                    }
                    write_span(&mut writer, &span)?;
                }
            }
            writer.write_char(']')?;
        }
        writer.write_str("}\n")
    }
}

/// The span's fields as `SpanFields` stored them (a JSON object, keys
/// sorted), with its `name` added last.
fn write_span<S>(writer: &mut Writer<'_>, span: &SpanRef<'_, S>) -> fmt::Result
where
    S: for<'a> LookupSpan<'a>,
{
    let extensions = span.extensions();
    let stored = extensions
        .get::<FormattedFields<SpanFields>>()
        .map(|fields| fields.fields.as_str());
    match stored.and_then(|s| s.strip_prefix('{')?.strip_suffix('}')) {
        Some("") => writer.write_str("{")?,
        Some(inner) => write!(writer, "{{{inner},")?,
        None => writer.write_str("{\"field_error\":\"span fields missing or malformed\",")?,
    }
    writer.write_str("\"name\":")?;
    write_str(writer, span.metadata().name())?;
    writer.write_char('}')
}

/// A span's fields as the stock `JsonFields` stores them: one JSON object,
/// keys sorted, a field recorded twice valued by its last record, `log.*`
/// fields of `Debug` values left out and a leading `r#` cut off.
#[derive(Debug, Default, Clone, Copy)]
pub struct SpanFields;

impl<'w> FormatFields<'w> for SpanFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut visitor = SpanVisitor::default();
        fields.record(&mut visitor);
        visitor.finish(&mut writer)
    }

    /// Fields recorded after the span began (`Span::record`): rare, so
    /// merged the plain way, through a map.
    fn add_fields(
        &self,
        current: &'w mut FormattedFields<Self>,
        fields: &Record<'_>,
    ) -> fmt::Result {
        let mut added = String::new();
        let mut visitor = SpanVisitor::default();
        fields.record(&mut visitor);
        visitor.finish(&mut added)?;
        let parse = |json: &str| {
            serde_json::from_str::<BTreeMap<String, serde_json::Value>>(json)
                .map_err(|_| fmt::Error)
        };
        let mut merged = if current.fields.is_empty() {
            BTreeMap::new()
        } else {
            parse(&current.fields)?
        };
        merged.extend(parse(&added)?);
        current.fields = serde_json::to_string(&merged).map_err(|_| fmt::Error)?;
        Ok(())
    }
}

/// Each value rendered into `values`, its range kept by field name.
#[derive(Default)]
struct SpanVisitor {
    values: String,
    entries: Vec<(&'static str, Range<usize>)>,
    failed: bool,
}

impl SpanVisitor {
    fn entry(&mut self, name: &'static str, value: impl FnOnce(&mut String) -> fmt::Result) {
        if !self.failed {
            let start = self.values.len();
            self.failed = value(&mut self.values).is_err();
            self.entries.push((name, start..self.values.len()));
        }
    }

    fn finish(mut self, writer: &mut impl Write) -> fmt::Result {
        if self.failed {
            return Err(fmt::Error);
        }
        // Stable: of two records of one name, the later stays the later.
        self.entries.sort_by_key(|(name, _)| *name);
        writer.write_char('{')?;
        let mut first = true;
        for (i, (name, range)) in self.entries.iter().enumerate() {
            if self
                .entries
                .get(i + 1)
                .is_some_and(|(next, _)| next == name)
            {
                continue;
            }
            if !first {
                writer.write_char(',')?;
            }
            first = false;
            write_str(writer, name)?;
            writer.write_char(':')?;
            writer.write_str(&self.values[range.clone()])?;
        }
        writer.write_char('}')
    }
}

impl Visit for SpanVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let name = field.name();
        if name.starts_with("log.") {
            return;
        }
        let name = name.strip_prefix("r#").unwrap_or(name);
        self.entry(name, |w| {
            w.write_char('"')?;
            write!(Escaped(&mut *w), "{value:?}")?;
            w.write_char('"')
        });
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.entry(field.name(), |w| write_str(w, value));
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.entry(field.name(), |w| {
            w.write_char('[')?;
            for (i, byte) in value.iter().enumerate() {
                if i > 0 {
                    w.write_char(',')?;
                }
                write!(w, "{byte}")?;
            }
            w.write_char(']')
        });
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.entry(field.name(), |w| write!(w, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.entry(field.name(), |w| write!(w, "{value}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.entry(field.name(), |w| write!(w, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.entry(field.name(), |w| write_f64(w, value));
    }
}

/// Each field of the event as `,"name":value`, valued as `serde_json`
/// values them: numbers and booleans bare, everything else a string.
struct FieldsVisitor<'a, 'w> {
    writer: &'a mut Writer<'w>,
    result: fmt::Result,
}

impl FieldsVisitor<'_, '_> {
    fn entry(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = (|| {
                self.writer.write_char(',')?;
                write_str(self.writer, field.name())?;
                self.writer.write_char(':')?;
                value(self.writer)
            })();
        }
    }
}

impl Visit for FieldsVisitor<'_, '_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.entry(field, |w| {
            w.write_char('"')?;
            write!(Escaped(&mut *w), "{value:?}")?;
            w.write_char('"')
        });
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.entry(field, |w| write_str(w, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.entry(field, |w| write!(w, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.entry(field, |w| write!(w, "{value}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.entry(field, |w| write!(w, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.entry(field, |w| write_f64(w, value));
    }
}

/// serde_json's own rendering: shortest round trip, `null` if not finite.
fn write_f64(writer: &mut impl Write, value: f64) -> fmt::Result {
    match serde_json::Number::from_f64(value) {
        Some(number) => write!(writer, "{number}"),
        None => writer.write_str("null"),
    }
}

/// A JSON string, quoted and escaped.
fn write_str(writer: &mut impl Write, s: &str) -> fmt::Result {
    writer.write_char('"')?;
    Escaped(&mut *writer).write_str(s)?;
    writer.write_char('"')
}

/// Escapes what passes through it as `serde_json` does: `"`, `\` and the
/// control characters.
struct Escaped<W>(W);

impl<W: Write> Write for Escaped<W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        // Most text needs no escape: one pass without early exit, which
        // the compiler vectorizes, then one write.
        let needs_escape = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
        if !bytes.iter().fold(false, |any, &b| any | needs_escape(b)) {
            return self.0.write_str(s);
        }
        let mut start = 0;
        for (i, &byte) in bytes.iter().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x08 => "\\b",
                0x0c => "\\f",
                0..=0x1f => "",
                _ => continue,
            };
            self.0.write_str(&s[start..i])?;
            if escape.is_empty() {
                write!(self.0, "\\u{byte:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            start = i + 1;
        }
        self.0.write_str(&s[start..])
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    fn events() {
        tracing::info!("outside any span");
        let outer = tracing::info_span!(
            "request",
            request_id = %"a\"b",
            method = "POST",
            client_ip = Some(tracing::field::display("127.0.0.1")),
            r#type = ?"raw",
            bytes = &b"\x01z"[..],
            ratio = 1.5f64,
            nan = f64::NAN,
            n = -4i64,
            ok = false,
            missing = tracing::field::Empty,
        );
        let _outer = outer.enter();
        tracing::warn!(
            route = "/x",
            status = 200u16,
            signed = -3i64,
            ok = true,
            ratio = 0.25f64,
            whole = 1.0f64,
            huge = 1e21f64,
            nan = f64::NAN,
            text = "tab\there \u{1} \u{7f} ünï",
            debug = ?Some("quoted \"x\""),
            error = &io::Error::other("disk \\ full") as &dyn std::error::Error,
            "request {} completed", 7
        );
        let inner = tracing::info_span!("inner", empty = tracing::field::Empty, n = 1u64);
        inner.record("empty", "filled later");
        inner.record("n", 2u64);
        let _inner = inner.enter();
        tracing::error!(message = "in the inner span");
        let bare = tracing::info_span!("bare");
        let _bare = bare.enter();
        tracing::debug!(x = 1i64, "in a span without fields");
        tracing::info!(parent: &outer, "explicit parent");
    }

    /// Each line with its timestamp cut out: the clock moves between runs.
    fn lines(buffer: &Buffer) -> Vec<String> {
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| {
                let start = line.find("\"timestamp\":\"").unwrap() + 13;
                let end = start + line[start..].find('"').unwrap();
                format!("{}{}", &line[..start], &line[end..])
            })
            .collect()
    }

    #[test]
    fn writes_what_the_stock_json_format_writes() {
        let stock = Buffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(stock.clone())
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .finish();
        tracing::subscriber::with_default(subscriber, events);

        let ours = Buffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(ours.clone())
            .json()
            .fmt_fields(SpanFields)
            .event_format(JsonLines)
            .finish();
        tracing::subscriber::with_default(subscriber, events);

        let (stock, ours) = (lines(&stock), lines(&ours));
        assert_eq!(stock.len(), 5);
        assert_eq!(ours.len(), stock.len());
        for (stock, ours) in stock.iter().zip(&ours) {
            assert_eq!(ours, stock);
            serde_json::from_str::<serde_json::Value>(ours).unwrap();
        }
        assert_eq!(ours.len(), stock.len());
    }
}
