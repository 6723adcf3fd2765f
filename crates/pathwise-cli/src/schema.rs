//! `pathwise schema`: the ClickHouse DDL the backend runs on first use, printed for review.

use pathwise_store_clickhouse::schema::{Variant, ddl};

use crate::SchemaArgs;
use crate::error::CliError;

/// Runs `pathwise schema`: the statements, each ending with `;` on a line of its own.
pub fn run(args: &SchemaArgs) -> Result<(), CliError> {
    let variant = match args.variant.as_str() {
        "legacy" => Variant::Legacy,
        _ => Variant::Modern,
    };
    let valid = |name: &str| {
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    if !valid(&args.database) || args.cluster.as_deref().is_some_and(|c| !valid(c)) {
        return Err(CliError::Input(
            "database and cluster names are letters, digits and _".into(),
        ));
    }
    let statements = ddl(variant, &args.database, args.cluster.as_deref());
    crate::format::emit(
        &statements
            .iter()
            .map(|s| format!("{s};\n"))
            .collect::<String>(),
    )
}
