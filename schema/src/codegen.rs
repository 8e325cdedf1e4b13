//! IR → Rust tokens: the typed dispatch table behind `settings!` and `notifier codegen`.
//!
//! The generated module holds:
//! * `EVENTS_<i>`: one `EventSet` constant per channel;
//! * `PLUGIN_<i>`: the plugin function of each plugin channel, resolved by rustc (a typo
//!   is a compile error whose module path names the YAML line, see [`position_module`]);
//! * `CHANNELS`: a `static` table of channel definitions (templates keep `${VAR}`
//!   unresolved, so no secret value is ever compiled in);
//! * `Notifications`: a notifier built from that table, whose `notify` is unrolled into
//!   one `if` per channel calling the plugin functions directly;
//! * `notify(…)`: the same on a lazily built default instance.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use notifier_core::plugins::builtin;
use notifier_core::{Segment, Template};

use crate::ir::{ChannelIr, ChannelTable, IrKind, UnresolvedPlugin};
use crate::rust_name::{RustName, rust_name};

/// How to generate.
#[derive(Clone)]
pub struct CodegenOptions {
    /// Path of the `notifier` facade crate in the generated code (default `::notifier`).
    pub krate: TokenStream,
    /// Plugin module names mapped to Rust module paths (`"acme.hooks"` → `crate::hooks`).
    /// Built-in plugins are mapped already; an entry here overrides them.
    pub plugins: Vec<(String, syn::Path)>,
    /// Absolute path of the settings file for `include_bytes!` (rebuilds on change).
    pub track_file: Option<String>,
    /// Span for the paths of built-in plugins (mapped plugins use their path's span):
    /// where rustc reports a missing function.
    pub plugin_span: Span,
}

impl Default for CodegenOptions {
    fn default() -> Self {
        CodegenOptions {
            krate: quote!(::notifier),
            plugins: Vec::new(),
            track_file: None,
            plugin_span: Span::call_site(),
        }
    }
}

/// The name of the module through which channel `c`'s plugin function is reached:
/// `settings_yaml_line_12_col_5`. rustc prints it in "cannot find value `notifi` in
/// module `…`", so a misspelt `func` names its YAML position even in rustc's own error.
pub fn position_module(file: &str, c: &ChannelIr) -> Ident {
    let stem: String = std::path::Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() { ch.to_ascii_lowercase() } else { '_' })
        .collect();
    let stem = if stem.starts_with(|ch: char| ch.is_ascii_alphabetic()) { stem } else { format!("settings_{stem}") };
    format_ident!("{}_line_{}_col_{}", stem, c.line, c.column)
}

/// The module items of the dispatch table (without the enclosing `mod`), or the plugin
/// channels whose module has no Rust mapping (in `opts.plugins` or built in).
pub fn generate(table: &ChannelTable, opts: &CodegenOptions) -> Result<TokenStream, Vec<UnresolvedPlugin>> {
    let k = &opts.krate;
    // Short aliases keep the generated code readable (`notifier codegen` prints it).
    let core = quote!(__nc);
    let cow = quote!(__Cow);
    let n = table.channels.len();
    let file = &table.file;

    let mut errors = Vec::new();
    let mut items = Vec::new();
    let mut defs = Vec::new();
    let mut arms = Vec::new();
    let mut position_mods = Vec::new();
    for c in &table.channels {
        let i = c.index;
        let events = format_ident!("EVENTS_{}", i);
        let set = if c.events == notifier_core::EventSet::ALL {
            quote!(#core::EventSet::ALL)
        } else {
            let names = c.events.iter().map(|e| format_ident!("{}", format!("{e:?}")));
            quote!(#core::EventSet::of(&[#(#core::Event::#names),*]))
        };
        let doc = format!("Events channel #{} ({file}:{}:{}) receives.", i + 1, c.line, c.column);
        items.push(quote! {
            #[doc = #doc]
            pub const #events: #core::EventSet = #set;
        });
        // Exactly the IR's duration (what the loader uses), in milliseconds when it is whole.
        let timeout = if c.timeout.subsec_nanos().is_multiple_of(1_000_000) {
            let ms = proc_macro2::Literal::u64_unsuffixed(u64::try_from(c.timeout.as_millis()).unwrap_or(u64::MAX));
            quote!(::core::time::Duration::from_millis(#ms))
        } else {
            let ns = proc_macro2::Literal::u64_unsuffixed(u64::try_from(c.timeout.as_nanos()).unwrap_or(u64::MAX));
            quote!(::core::time::Duration::from_nanos(#ns))
        };
        let retries = proc_macro2::Literal::u8_unsuffixed(c.retries);
        let (line, column) =
            (proc_macro2::Literal::u32_unsuffixed(c.line), proc_macro2::Literal::u32_unsuffixed(c.column));
        // The channel's kind, and the plugin constant its dispatch arm calls directly.
        let (kind, plugin) = match &c.kind {
            IrKind::Http { url, headers, verify_tls, forward_event_payload, signing_secret, body } => {
                let url = template(url, &core, &cow);
                let header_items = headers.iter().map(|(name, value)| {
                    let value = template(value, &core, &cow);
                    quote!((#cow::Borrowed(#name), #value))
                });
                let headers_ident = format_ident!("HEADERS_{}", i);
                let header_count = proc_macro2::Literal::usize_unsuffixed(headers.len());
                let headers_ref = if headers.is_empty() {
                    quote!(#cow::Borrowed(&[]))
                } else {
                    items.push(quote! {
                        static #headers_ident: [(#core::Str, #core::Template); #header_count] = [#(#header_items),*];
                    });
                    quote!(#cow::Borrowed(&#headers_ident))
                };
                let secret = match signing_secret {
                    Some(t) => {
                        let t = template(t, &core, &cow);
                        quote!(::core::option::Option::Some(#t))
                    }
                    None => quote!(::core::option::Option::None),
                };
                let body = body_def(body, &core, &cow);
                let kind = quote! {
                    #core::ChannelKind::Http(#core::HttpDef {
                        url: #url,
                        headers: #headers_ref,
                        verify_tls: #verify_tls,
                        forward_event_payload: #forward_event_payload,
                        signing_secret: #secret,
                        body: #body,
                    })
                };
                (kind, None)
            }
            IrKind::Plugin { module, func, config, .. } => {
                let mapped = opts.plugins.iter().find(|(m, _)| m == module);
                let span = mapped.map_or(opts.plugin_span, |(_, p)| syn::spanned::Spanned::span(p));
                let target = mapped.map(|(_, p)| quote!(#p)).or_else(|| {
                    builtin(module).map(|b| {
                        let rest: TokenStream = b.rust_module.parse().unwrap_or_default();
                        quote!(#k::#rest)
                    })
                });
                let Some(target) = target else {
                    errors.extend(c.as_unresolved_plugin(file));
                    continue;
                };
                let pos = position_module(file, c);
                // Located on the user's path, but with the macro's hygiene: rustc then
                // points at the mapping without suggesting edits to the user's tokens.
                let func_span = Span::mixed_site().located_at(span);
                // The checks refused the names Rust cannot write at all.
                let func_ident = match rust_name(func) {
                    RustName::Raw => Ident::new_raw(func, func_span),
                    RustName::Plain | RustName::Impossible => Ident::new(func, func_span),
                };
                let plugin = format_ident!("PLUGIN_{}", i);
                let plugin_doc = format!("`{module}.{func}` (channel #{}, {file}:{}:{}).", i + 1, c.line, c.column);
                position_mods.push(quote! {
                    pub mod #pos {
                        #[allow(unused_imports)]
                        pub use #target::*;
                    }
                });
                items.push(quote! {
                    #[doc = #plugin_doc]
                    pub const #plugin: #core::PluginFn = __plugins::#pos::#func_ident;
                });
                let config_json = serde_json::Value::Object(config.clone()).to_string();
                let kind = quote! {
                    #core::ChannelKind::Plugin(#core::PluginDef {
                        module: #cow::Borrowed(#module),
                        func: #cow::Borrowed(#func),
                        config_json: #cow::Borrowed(#config_json),
                        call: #plugin,
                    })
                };
                (kind, Some(plugin))
            }
        };
        arms.push((i, plugin));
        defs.push(quote! {
            #core::ChannelDef {
                events: #events,
                origin: #core::Origin { file: #cow::Borrowed(#file), line: #line, column: #column },
                timeout: #timeout,
                retries: #retries,
                kind: #kind,
            }
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let dispatch_arms: Vec<TokenStream> = arms
        .iter()
        .map(|(i, plugin)| {
            let events = format_ident!("EVENTS_{}", i);
            let deliver = match plugin {
                Some(p) => quote!(dispatch.deliver_plugin(#i, #p)),
                None => quote!(dispatch.deliver(#i)),
            };
            quote! {
                if #events.contains(event) { #deliver; } else { dispatch.filtered(#i); }
            }
        })
        .collect();
    // The same unrolled dispatch for callers inside an async runtime.
    let dispatch_arms_async: Vec<TokenStream> = arms
        .iter()
        .map(|(i, plugin)| {
            let events = format_ident!("EVENTS_{}", i);
            let deliver = match plugin {
                Some(p) => quote!(dispatch.deliver_plugin_async(#i, #p).await),
                None => quote!(dispatch.deliver_async(#i).await),
            };
            quote! {
                if #events.contains(event) { #deliver; } else { dispatch.filtered(#i); }
            }
        })
        .collect();
    let track = opts.track_file.as_ref().map(|p| {
        quote! {
            // Rebuild when the settings file changes; the bytes are not kept in the binary.
            const _: &[u8] = ::core::include_bytes!(#p);
        }
    });
    let table_doc = format!("The {n} channel(s) of `{file}`, in file order.");
    let n = proc_macro2::Literal::usize_unsuffixed(n);
    Ok(quote! {
        #track
        #[allow(unused_imports)]
        use #k::__private::notifier_core as __nc;
        #[allow(unused_imports)]
        use #k::__private::std::borrow::Cow as __Cow;
        #[doc(hidden)]
        #[allow(non_snake_case)]
        mod __plugins {
            #[allow(unused_imports)]
            use super::*;
            #(#position_mods)*
        }
        #(#items)*
        #[doc = #table_doc]
        pub static CHANNELS: [#core::ChannelDef; #n] = [#(#defs),*];

        /// A notifier over [`CHANNELS`] whose dispatch is unrolled at compile time.
        pub struct Notifications(#k::Notifier);

        impl Notifications {
            /// Builds the notifier with the default options (sequential delivery).
            /// `${VAR}` references are resolved from the environment now.
            pub fn new() -> Notifications {
                Notifications::with(|builder| builder)
            }

            /// Builds the notifier with custom options (background mode, budgets…).
            pub fn with(configure: impl ::core::ops::FnOnce(#k::NotifierBuilder) -> #k::NotifierBuilder) -> Notifications {
                Notifications(configure(#k::Notifier::builder(CHANNELS.to_vec())).build())
            }

            /// The underlying notifier (flush, stats, describe).
            pub fn notifier(&self) -> &#k::Notifier {
                &self.0
            }

            /// Sends one event to every channel whose filter accepts it.
            pub fn notify(
                &self,
                event: #k::Event,
                payload: #k::__private::serde_json::Value,
                error: ::core::option::Option<#k::__private::serde_json::Value>,
            ) -> #k::DeliveryReport {
                self.notify_envelope(#k::Envelope::new(event, payload, error))
            }

            /// Sends a prepared envelope.
            #[allow(unused_variables, unused_mut)]
            pub fn notify_envelope(&self, envelope: #k::Envelope) -> #k::DeliveryReport {
                let event = envelope.event;
                let mut dispatch = self.0.dispatch(envelope);
                #(#dispatch_arms)*
                dispatch.finish()
            }

            /// Like [`notify`](Notifications::notify), for callers inside an async runtime:
            /// the caller's thread is never blocked while channels deliver.
            pub async fn notify_async(
                &self,
                event: #k::Event,
                payload: #k::__private::serde_json::Value,
                error: ::core::option::Option<#k::__private::serde_json::Value>,
            ) -> #k::DeliveryReport {
                self.notify_envelope_async(#k::Envelope::new(event, payload, error)).await
            }

            /// Like [`notify_envelope`](Notifications::notify_envelope), for async callers.
            #[allow(unused_variables, unused_mut)]
            pub async fn notify_envelope_async(&self, envelope: #k::Envelope) -> #k::DeliveryReport {
                let event = envelope.event;
                let mut dispatch = self.0.dispatch(envelope);
                #(#dispatch_arms_async)*
                dispatch.finish()
            }
        }

        impl ::core::default::Default for Notifications {
            fn default() -> Self {
                Notifications::new()
            }
        }

        /// The process-wide default instance, built on first use.
        pub fn notifications() -> &'static Notifications {
            static INSTANCE: #k::__private::std::sync::OnceLock<Notifications> = #k::__private::std::sync::OnceLock::new();
            INSTANCE.get_or_init(Notifications::new)
        }

        /// Sends one event through the default instance.
        pub fn notify(
            event: #k::Event,
            payload: #k::__private::serde_json::Value,
            error: ::core::option::Option<#k::__private::serde_json::Value>,
        ) -> #k::DeliveryReport {
            notifications().notify(event, payload, error)
        }
    })
}

/// The items of a module whose settings did not compile: same API, no channel, so the
/// user's code gets no follow-on errors (the `compile_error!`s say what is wrong).
pub fn skeleton(opts: &CodegenOptions) -> TokenStream {
    generate(&ChannelTable { file: String::new(), channels: Vec::new(), skipped: Vec::new() }, opts).unwrap_or_default()
}

fn template(t: &Template, core: &TokenStream, cow: &TokenStream) -> TokenStream {
    let segments = t.segments().iter().map(|s| match s {
        Segment::Lit(text) => {
            let text = text.as_ref();
            quote!(#core::Segment::Lit(#cow::Borrowed(#text)))
        }
        Segment::Var { name, default } => {
            let name = name.as_ref();
            let default = match default {
                Some(d) => {
                    let d = d.as_ref();
                    quote!(::core::option::Option::Some(#cow::Borrowed(#d)))
                }
                None => quote!(::core::option::Option::None),
            };
            quote!(#core::Segment::Var { name: #cow::Borrowed(#name), default: #default })
        }
    });
    // Tuple constructors extend the temporary's lifetime in a `static`, so the slice
    // can be written inline.
    quote!(#core::Template(#cow::Borrowed(&[#(#segments),*])))
}

/// A body definition as a constant expression (the template text and options are
/// compiled in as written; `${VAR}`s in options stay unresolved until the notifier is
/// built).
fn body_def(body: &notifier_core::BodyDef, core: &TokenStream, cow: &TokenStream) -> TokenStream {
    use notifier_core::BodyDef;
    match body {
        BodyDef::Envelope => quote!(#core::BodyDef::Envelope),
        BodyDef::Template { source, content_type, options_json } => {
            let (source, content_type, options_json) = (source.as_ref(), content_type.as_ref(), options_json.as_ref());
            quote!(#core::BodyDef::Template {
                source: #cow::Borrowed(#source),
                content_type: #cow::Borrowed(#content_type),
                options_json: #cow::Borrowed(#options_json),
            })
        }
        BodyDef::Format { name, options_json } => {
            let (name, options_json) = (name.as_ref(), options_json.as_ref());
            quote!(#core::BodyDef::Format { name: #cow::Borrowed(#name), options_json: #cow::Borrowed(#options_json) })
        }
    }
}

/// Formats generated tokens as Rust source (for `notifier codegen` and snapshots;
/// feature `pretty`).
#[cfg(feature = "pretty")]
pub fn format(tokens: &TokenStream) -> Result<String, syn::Error> {
    let file: syn::File = syn::parse2(tokens.clone())?;
    Ok(prettyplease::unparse(&file))
}

/// Why [`render_module`] or [`parse_plugin_mapping`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The module name or a plugin path is not valid Rust.
    #[error("{0}")]
    Invalid(String),
}

/// Parses `MODULE=RUST_PATH` (as given to `notifier codegen --plugin`).
pub fn parse_plugin_mapping(text: &str) -> Result<(String, syn::Path), RenderError> {
    let (module, path) = text.split_once('=').ok_or_else(|| {
        RenderError::Invalid(format!("`{text}`: expected MODULE=RUST_PATH, e.g. acme.hooks=crate::hooks"))
    })?;
    let path = syn::parse_str::<syn::Path>(path.trim())
        .map_err(|e| RenderError::Invalid(format!("`{path}` is not a Rust path: {e}")))?;
    Ok((module.trim().to_owned(), path))
}

/// The whole generated module, formatted: `pub mod NAME { … }` around the `items` of
/// `file` (what `build::build` generates), as `settings!` would expand it.
#[cfg(feature = "pretty")]
pub fn render_module(items: &TokenStream, file: &str, name: &str) -> Result<String, RenderError> {
    let ident = syn::parse_str::<Ident>(name)
        .map_err(|_| RenderError::Invalid(format!("`{name}` is not a valid module name")))?;
    let doc = format!("Generated by `notifier codegen` from `{file}`.");
    let tokens = quote! {
        #[doc = #doc]
        pub mod #ident {
            #items
        }
    };
    format(&tokens).map_err(|e| RenderError::Invalid(format!("internal error: generated code does not parse: {e}")))
}
