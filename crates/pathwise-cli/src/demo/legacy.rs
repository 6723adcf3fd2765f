//! Monitored code the demo never calls, so "never executed" has answers.

use super::search::Dataset;

/// The CSV exporter of the previous version, kept for one customer.
#[allow(dead_code, reason = "registered but never called, on purpose")]
pub struct LegacyExporter;

#[allow(dead_code, reason = "registered but never called, on purpose")]
impl LegacyExporter {
    /// Writes datasets as CSV.
    #[pathwise::monitor(name = "LegacyExporter.export_csv", group = "legacy")]
    pub fn export_csv(&self, rows: &[Dataset]) -> String {
        let mut out = String::from("accession,source,title,score\n");
        for row in rows {
            out.push_str(&format!(
                "{},{},\"{}\",{}\n",
                row.accession,
                row.source,
                row.title.replace('"', "\"\""),
                row.score
            ));
        }
        out
    }

    /// Writes datasets as XML (never finished).
    #[pathwise::monitor(name = "LegacyExporter.export_xml", group = "legacy")]
    pub fn export_xml(&self, rows: &[Dataset]) -> Result<String, std::fmt::Error> {
        if rows.is_empty() {
            return Err(std::fmt::Error);
        }
        Ok(format!("<datasets count=\"{}\"/>", rows.len()))
    }
}
