//! `${VAR}` references: malformed ones are errors, unset ones warnings.

use notifier_core::template::Template;

use crate::code::Code;
use crate::report::Report;

/// Checks `${VAR}` syntax and warns about variables unset in this environment.
pub(super) fn check_template(ptr: &str, text: &str, r: &mut Report<'_>) -> Option<Template> {
    match Template::parse(text) {
        Err(e) => {
            r.error(Code::InvalidVariable, ptr, format!("malformed environment variable reference: {e}"))
                .help("write `${NAME}` or `${NAME:-default}`; `$$` is a literal `$`");
            None
        }
        Ok(t) => {
            for name in t.missing_vars(&|n| std::env::var(n).ok()) {
                r.warning(Code::UnsetVariable, ptr, format!("environment variable `{name}` is not set here")).help(
                    format!("the channel fails at run time unless `{name}` is set (or write `${{{name}:-default}}`)"),
                );
            }
            Some(t)
        }
    }
}
