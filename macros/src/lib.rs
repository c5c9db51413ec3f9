//! Attribute macros that turn an `async fn` into an entry point running on the
//! `mini` runtime: [`macro@main`] for a binary's `main` and [`macro@test`] for
//! a `#[test]` function.
//!
//! Use them through the `mini` facade (`#[mini::main]`, `#[mini::test]`), not
//! through this crate directly: the expansion names `::mini::runtime`, so the
//! code that uses them must depend on `mini`.
//!
//! Both macros rewrite
//!
//! ```ignore
//! async fn name() -> R { body }
//! ```
//!
//! into a synchronous function that builds a current-thread runtime and
//! blocks on the body:
//!
//! ```ignore
//! fn name() -> R {
//!     let body = async move { body };
//!     let runtime = ::mini::runtime::Builder::new_current_thread()
//!         .build()
//!         .expect("failed to build the mini runtime");
//!     runtime.block_on(body)
//! }
//! ```
//!
//! keeping the function's attributes, visibility, name and return type
//! (`#[mini::test]` adds `#[test]`). A `return` inside the body returns from
//! the async block, and so from the function. Misuse (a missing `async`,
//! arguments, generics, attribute arguments) is a compile error that points
//! at the offending tokens.

#![deny(missing_docs)]

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{ItemFn, Meta, Path, Signature, Token};

/// Runs an `async fn main` on a current-thread `mini` runtime.
///
/// The function must be `async`, must not take arguments and must not be
/// generic. Its attributes, visibility and return type are kept, so
/// `async fn main() -> std::io::Result<()>` works as usual. The attribute
/// takes one argument, `start_paused = true|false` (the runtime's clock starts
/// paused, as with `mini::time::pause`).
///
/// ```ignore
/// // `ignore`: this crate's doc tests cannot depend on `mini`.
/// #[mini::main]
/// async fn main() -> std::io::Result<()> {
///     println!("hello from the mini runtime");
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry_point(EntryPoint::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on its own current-thread `mini` runtime.
///
/// Expands to a `#[test]` function with the same name, so do not add
/// `#[test]` yourself. The function must be `async`, must not take arguments
/// and must not be generic; it may return anything `#[test]` accepts, such as
/// `()` or a `Result`. `#[mini::test(start_paused = true)]` starts the
/// runtime with its clock paused, so timeouts run in virtual time.
///
/// ```ignore
/// // `ignore`: this crate's doc tests cannot depend on `mini`.
/// #[mini::test]
/// async fn adds_in_a_task() {
///     assert_eq!(async { 1 + 1 }.await, 2);
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry_point(EntryPoint::Test, args.into(), item.into()).into()
}

/// Which attribute is being expanded.
#[derive(Clone, Copy)]
enum EntryPoint {
    Main,
    Test,
}

impl EntryPoint {
    fn attribute(self) -> &'static str {
        match self {
            EntryPoint::Main => "#[mini::main]",
            EntryPoint::Test => "#[mini::test]",
        }
    }

    /// `#[test]` for a test, nothing for `main`.
    fn test_attribute(self) -> TokenStream2 {
        match self {
            EntryPoint::Main => quote!(),
            EntryPoint::Test => quote!(#[::core::prelude::v1::test]),
        }
    }

    fn no_arguments_message(self) -> &'static str {
        match self {
            EntryPoint::Main => "the main function cannot accept arguments",
            EntryPoint::Test => "a test function cannot accept arguments",
        }
    }
}

/// Checks the attribute arguments and the function, then expands it, or
/// emits the errors next to a [`stand_in`] for it.
fn entry_point(kind: EntryPoint, args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(error) => return with_error(item, error),
    };
    let options = parse_arguments(kind, args);
    let signature = validate_signature(kind, &function.sig);
    match (options, signature) {
        (Ok(options), Ok(())) => expand(kind, options, function),
        (options, signature) => {
            let errors = options.err().into_iter().chain(signature.err());
            let error = all_ok(errors).expect_err("one of them failed");
            with_error(stand_in(kind, function), error)
        }
    }
}

/// What the attribute's arguments ask for.
#[derive(Default)]
struct Options {
    /// `start_paused = true`: the runtime's clock starts paused (`mini::time::pause`).
    start_paused: bool,
}

/// Parses `#[mini::main(...)]`'s arguments as a comma-separated list of
/// `syn::Meta` (`name`, `name = value`, `name(...)`). Known today:
/// `start_paused = true|false`; anything else is an error at its own span.
/// Future options (`flavor`, `worker_threads`) get matched here too.
fn parse_arguments(kind: EntryPoint, args: TokenStream2) -> syn::Result<Options> {
    let arguments = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut options = Options::default();
    let mut errors = Vec::new();
    for argument in &arguments {
        match argument {
            Meta::NameValue(pair) if pair.path.is_ident("start_paused") => match &pair.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Bool(value),
                    ..
                }) => options.start_paused = value.value,
                other => errors.push(syn::Error::new_spanned(other, "`start_paused` takes `true` or `false`")),
            },
            _ => errors.push(unknown_argument(kind, argument)),
        }
    }
    all_ok(errors).map(|()| options)
}

fn unknown_argument(kind: EntryPoint, argument: &Meta) -> syn::Error {
    let message = format!(
        "unknown attribute argument `{}`; {} takes only `start_paused = true|false` yet",
        path_to_string(argument.path()),
        kind.attribute(),
    );
    syn::Error::new_spanned(argument, message)
}

/// `a::b` as written, without the spaces that `to_string` on tokens adds.
fn path_to_string(path: &Path) -> String {
    quote!(#path).to_string().replace(' ', "")
}

/// Rejects signatures the expansion cannot turn into a synchronous entry
/// point, each error at the tokens to change.
fn validate_signature(kind: EntryPoint, sig: &Signature) -> syn::Result<()> {
    let mut errors = Vec::new();
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            sig.fn_token,
            "the `async` keyword is missing from the function declaration",
        ));
    }
    // Like tokio, `#[mini::main]` on a function not named `main` may take
    // arguments: it is then an ordinary function that blocks on its body.
    let must_take_no_arguments = match kind {
        EntryPoint::Main => sig.ident == "main",
        EntryPoint::Test => true,
    };
    if must_take_no_arguments && !sig.inputs.is_empty() {
        errors.push(syn::Error::new_spanned(&sig.inputs, kind.no_arguments_message()));
    }
    if let Some(generics) = generics_tokens(sig) {
        errors.push(syn::Error::new_spanned(
            generics,
            format!(
                "{} cannot be used on a generic function; remove the generic parameters",
                kind.attribute(),
            ),
        ));
    }
    all_ok(errors)
}

/// The generic parameters and `where` clause, if the function has any.
fn generics_tokens(sig: &Signature) -> Option<TokenStream2> {
    let generics = &sig.generics;
    if generics.params.is_empty() && generics.where_clause.is_none() {
        return None;
    }
    let where_clause = &generics.where_clause;
    Some(quote!(#generics #where_clause))
}

/// Rewrites `async fn name() -> R { body }` into a synchronous function that
/// blocks on `async move { body }` in a new current-thread runtime.
fn expand(kind: EntryPoint, options: Options, function: ItemFn) -> TokenStream2 {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    sig.asyncness = None;
    let test_attribute = kind.test_attribute();
    let start_paused = options.start_paused;
    // Spanned at the body so that a body whose type does not match the
    // return type is reported there, not at the attribute.
    let body_span = block.brace_token.span.join();
    let block_on_body = quote_spanned! {body_span=> runtime.block_on(body) };
    quote! {
        #test_attribute
        #(#attrs)*
        #vis #sig {
            let body = async move #block;
            let runtime = ::mini::runtime::Builder::new_current_thread()
                .start_paused(#start_paused)
                .build()
                .expect("failed to build the mini runtime");
            #block_on_body
        }
    }
}

/// What to emit next to the errors instead of the expansion: a function with
/// the signature the attribute produces (no `async`, arguments or generics),
/// so that rustc adds no follow-up errors such as "`main` function has wrong
/// type", holding the user's function unchanged, so that its body is still
/// type-checked and what it uses does not look unused.
fn stand_in(kind: EntryPoint, function: ItemFn) -> TokenStream2 {
    let ItemFn { attrs, vis, sig, block } = function;
    let test_attribute = kind.test_attribute();
    let name = &sig.ident;
    let output = &sig.output;
    quote! {
        #test_attribute
        #(#attrs)*
        #vis fn #name() #output {
            #[allow(dead_code)]
            #sig #block
            ::core::unimplemented!()
        }
    }
}

/// Appends the errors as `compile_error!`s to `tokens`.
fn with_error(mut tokens: TokenStream2, error: syn::Error) -> TokenStream2 {
    tokens.extend(error.into_compile_error());
    tokens
}

/// `Ok` if there is no error, else all of them merged into one, so that they
/// are reported at once.
fn all_ok(errors: impl IntoIterator<Item = syn::Error>) -> syn::Result<()> {
    match errors.into_iter().reduce(|mut all, error| {
        all.combine(error);
        all
    }) {
        None => Ok(()),
        Some(all) => Err(all),
    }
}
