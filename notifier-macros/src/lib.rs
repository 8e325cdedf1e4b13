//! The `settings!` proc-macro of the Chaos Toolkit notifier.
//!
//! This crate only parses the invocation and turns the compiler's diagnostics into
//! `compile_error!`s; loading, validation and code generation live in
//! `notifier-schema` (shared with `notifier check` and `notifier codegen`), so a build
//! and a CI check reject exactly the same files with the same messages. Use it through
//! the `notifier` crate (`notifier::settings!`).

use std::path::{Path, PathBuf};

use notifier_schema::build::build;
use notifier_schema::codegen::{self, CodegenOptions};
use notifier_schema::{Diagnostic, SourceFile, compile};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, LitStr, Token, Visibility, braced};

/// Compiles a Chaos Toolkit settings file into a typed dispatch table.
///
/// ```ignore
/// notifier::settings! {
///     /// Notifications of the chaos runner.
///     pub mod chaos {
///         path: "chaostoolkit/settings.yaml",
///         plugins: { "acme.hooks" => crate::hooks },
///     }
/// }
///
/// let report = chaos::notify(notifier::Event::RunStarted, serde_json::json!({}), None);
/// ```
///
/// * `path` is relative to the crate's `Cargo.toml` directory (or, when no such file
///   exists, to the directory of the file holding the invocation). Editing the file
///   rebuilds the crate.
/// * `plugins` maps plugin `module` names to Rust module paths (use `crate::…` or
///   `::other_crate::…` paths); the channel's `func` (default `notify`) must be a
///   `fn(&PluginConfig, &Envelope) -> Result<(), PluginError>` in that module. The
///   built-in `chaosslack.notification` and `notifier.jsonl` are mapped already.
/// * `crate` (optional) is the path of the `notifier` crate if you renamed it.
///
/// Every problem in the file is a compile error naming its `file:line:col`; warnings
/// (plain-text credentials, `verify_tls: false`…) are reported as deprecation warnings
/// on the path (silence one deliberately with `#[allow(deprecated)]` on the `mod`).
#[proc_macro]
pub fn settings(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = syn::parse_macro_input!(input as Input);
    expand(input).into()
}

struct Input {
    attrs: Vec<Attribute>,
    vis: Visibility,
    name: Ident,
    path: LitStr,
    plugins: Vec<(LitStr, syn::Path)>,
    krate: Option<syn::Path>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        input.parse::<Token![mod]>()?;
        let name: Ident = input.parse()?;
        let body;
        braced!(body in input);
        let mut path = None;
        let mut plugins = Vec::new();
        let mut krate = None;
        while !body.is_empty() {
            let key: Ident = if body.peek(Token![crate]) {
                let k: Token![crate] = body.parse()?;
                Ident::new("crate", k.span)
            } else {
                body.parse()?
            };
            body.parse::<Token![:]>()?;
            match key.to_string().as_str() {
                "path" => path = Some(body.parse::<LitStr>()?),
                "plugins" => {
                    let map;
                    braced!(map in body);
                    while !map.is_empty() {
                        let module: LitStr = map.parse()?;
                        map.parse::<Token![=>]>()?;
                        let target: syn::Path = map.parse()?;
                        plugins.push((module, target));
                        if !map.is_empty() {
                            map.parse::<Token![,]>()?;
                        }
                    }
                }
                "crate" => krate = Some(body.parse::<syn::Path>()?),
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown key `{other}`; expected `path`, `plugins` or `crate`"),
                    ));
                }
            }
            if !body.is_empty() {
                body.parse::<Token![,]>()?;
            }
        }
        let path = path.ok_or_else(|| syn::Error::new(name.span(), "missing `path: \"settings.yaml\"`"))?;
        Ok(Input { attrs, vis, name, path, plugins, krate })
    }
}

/// Where the settings file is: absolute, else under `CARGO_MANIFEST_DIR`, else next to
/// the invoking source file (trybuild moves the manifest directory, not the sources).
fn resolve(path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        return p.to_owned();
    }
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    let from_manifest = manifest.join(p);
    if from_manifest.exists() {
        return from_manifest;
    }
    proc_macro::Span::call_site()
        .local_file()
        .and_then(|f| f.parent().map(|d| d.join(p)))
        .filter(|candidate| candidate.exists())
        .unwrap_or(from_manifest)
}

fn expand(input: Input) -> TokenStream {
    let Input { attrs, vis, name, path, plugins, krate } = input;
    let krate = krate.map_or_else(|| quote!(::notifier), |k| quote!(#k));
    let lit_span = path.span();
    let resolved = resolve(&path.value());
    let mut opts = CodegenOptions {
        krate,
        plugins: plugins.iter().map(|(m, p)| (m.value(), p.clone())).collect(),
        track_file: None,
        plugin_span: lit_span,
    };
    let wrap = |items: TokenStream, extra: TokenStream| {
        quote! {
            #(#attrs)*
            #vis mod #name {
                #extra
                #items
            }
        }
    };

    let mut source = match SourceFile::read(&resolved) {
        Ok(source) => source,
        Err(e) => {
            // Name the file as written; the absolute path depends on the machine.
            let mut unreadable = Diagnostic::unreadable(&path.value(), &e);
            unreadable.help = Some(
                "a relative `path` is looked up in the crate's directory (CARGO_MANIFEST_DIR), \
                 then next to the file holding `settings!`"
                    .into(),
            );
            return wrap(codegen::skeleton(&opts), compile_errors(&[unreadable.build_message()], lit_span));
        }
    };
    opts.track_file = Some(resolved.display().to_string());
    // Diagnostics and the generated code name the file as the user wrote it.
    source.name = path.value();
    let built = build(&compile(source), &opts);
    let messages = |diags: &[Diagnostic]| diags.iter().map(Diagnostic::build_message).collect::<Vec<_>>();
    match built.items {
        Some(items) => wrap(items, deprecation_warnings(&messages(&built.warnings), lit_span)),
        None => wrap(codegen::skeleton(&opts), compile_errors(&messages(&built.errors), lit_span)),
    }
}

/// One `compile_error!` per message, all on the path literal (serde-style: report
/// everything at once).
fn compile_errors(messages: &[String], span: Span) -> TokenStream {
    messages.iter().map(|m| syn::Error::new(span, m).into_compile_error()).collect()
}

/// Stable proc-macros cannot emit warnings; a deprecated item used on the path literal
/// makes rustc print one, with our message as the deprecation note.
fn deprecation_warnings(warnings: &[String], span: Span) -> TokenStream {
    warnings
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let item = Ident::new(&format!("settings_warning_{i}"), span);
            let note = format!("\n{w}");
            quote_spanned! {span=>
                #[deprecated(note = #note)]
                #[allow(non_upper_case_globals, dead_code)]
                const #item: () = ();
                const _: () = #item;
            }
        })
        .collect()
}
