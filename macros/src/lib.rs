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
//! into a synchronous function that builds a runtime and blocks on the body;
//! for `#[mini::main]` with no arguments, a multi-threaded one:
//!
//! ```ignore
//! fn name() -> R {
//!     let body = async move { body };
//!     let runtime = ::mini::runtime::Builder::new_multi_thread()
//!         .build()
//!         .expect("failed to build the mini runtime");
//!     runtime.block_on(body)
//! }
//! ```
//!
//! keeping the function's attributes, visibility, name and return type
//! (`#[mini::test]` adds `#[test]`). A test hands the builder and a closure
//! that makes the body to `mini::runtime::seeds::run_test` instead, which may
//! run the body once per seed on a shuffled scheduler:
//!
//! ```ignore
//! #[test]
//! fn name() -> R {
//!     ::mini::runtime::seeds::run_test(
//!         ::mini::runtime::seeds::ShuffleMode::FromEnv,
//!         || { let mut builder = ::mini::runtime::Builder::new_current_thread(); builder.start_paused(false); builder },
//!         || async move { body },
//!     )
//! }
//! ```
//! A `return` inside the body returns from
//! the async block, and so from the function. Misuse (a missing `async`,
//! arguments, generics, attribute arguments) is a compile error that points
//! at the offending tokens.
//!
//! The attribute arguments pick the runtime, as with tokio:
//!
//! - `flavor = "current_thread"` runs every task on the calling thread
//!   (`Builder::new_current_thread`); `flavor = "multi_thread"` runs them on
//!   worker threads (`Builder::new_multi_thread`). `#[mini::main]` defaults to
//!   `"multi_thread"`, `#[mini::test]` to `"current_thread"`, so that each
//!   test gets a small runtime of its own.
//!   `flavor = "thread_per_core"` runs them on worker threads that share
//!   nothing (`Builder::new_thread_per_core`): `main`'s body runs on the
//!   calling thread, and starts its per-worker work with
//!   `Handle::current().run_on_each(..)`.
//! - `worker_threads = N` (at least 1) sets how many worker threads a
//!   multi-threaded or thread-per-core runtime runs, and so implies
//!   `flavor = "multi_thread"` unless another flavor is named.
//! - `start_paused = true|false` starts the runtime's clock paused; paused
//!   time needs `flavor = "current_thread"`.
//! - `shuffle` (`#[mini::test]` only) runs the test on a shuffled scheduler
//!   (`Builder::shuffle`) under the seeds the environment names, and prints
//!   the one that fails (`mini::runtime::seeds`); `shuffle = false` never
//!   shuffles. A current-thread test without it is shuffled only when
//!   `MINI_SEED` or `MINI_TEST_SEEDS` is set.
//!
//! ```ignore
//! #[mini::main(flavor = "multi_thread", worker_threads = 4)]
//! async fn main() {}
//!
//! #[mini::test(start_paused = true)]
//! async fn times_out_in_virtual_time() {}
//! ```
//!
//! Arguments that do not go together (`worker_threads` on a current-thread
//! runtime, `start_paused = true` on a multi-threaded one), or that are given
//! twice, are compile errors, rather than a setting the builder ignores or a
//! runtime that fails to build.

#![deny(missing_docs)]

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, ItemFn, Lit, Meta, Path, Signature, Token};

/// Runs an `async fn main` on a `mini` runtime, multi-threaded unless the
/// arguments say otherwise.
///
/// The function must be `async`, must not take arguments and must not be
/// generic. Its attributes, visibility and return type are kept, so
/// `async fn main() -> std::io::Result<()>` works as usual. The attribute
/// takes:
///
/// - `flavor = "multi_thread"` (the default), `flavor = "current_thread"`
///   (every task runs on the main thread) or `flavor = "thread_per_core"`
///   (workers that share nothing; see `mini::runtime::Builder::new_thread_per_core`);
/// - `worker_threads = N`, how many worker threads a multi-threaded or
///   thread-per-core runtime runs (default: one per CPU); without a flavor it
///   implies `flavor = "multi_thread"`;
/// - `start_paused = true|false`, whether the runtime's clock starts paused,
///   as with `mini::time::pause`; `true` needs `flavor = "current_thread"`.
///
/// ```ignore
/// // `ignore`: this crate's doc tests cannot depend on `mini`.
/// #[mini::main]
/// async fn main() -> std::io::Result<()> {
///     println!("hello from the mini runtime");
///     Ok(())
/// }
/// ```
///
/// ```ignore
/// #[mini::main(worker_threads = 2)]
/// async fn main() {}
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry_point(EntryPoint::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on its own `mini` runtime, current-thread unless
/// the arguments say otherwise.
///
/// Expands to a `#[test]` function with the same name, so do not add
/// `#[test]` yourself. The function must be `async`, must not take arguments
/// and must not be generic; it may return anything `#[test]` accepts, such as
/// `()` or a `Result`. `#[mini::test(start_paused = true)]` starts the
/// runtime with its clock paused, so timeouts run in virtual time.
/// `#[mini::test(flavor = "multi_thread")]` runs the test on worker threads
/// instead, and `worker_threads = N` (which implies `"multi_thread"`) sets
/// how many; paused time is not available there.
///
/// `#[mini::test(shuffle)]` runs the body on a shuffled scheduler
/// (`Builder::shuffle`): ready tasks run in an order drawn from a seed, a
/// fresh one per run unless `MINI_SEED=<n>` fixes it, under `MINI_TEST_SEEDS=<k>`
/// seeds in turn; a failure prints `mini: test failed with MINI_SEED=<n>;
/// rerun with MINI_SEED=<n> to reproduce` (see `mini::runtime::seeds`). A
/// current-thread test without the argument is shuffled the same way when
/// `MINI_SEED` or `MINI_TEST_SEEDS` is set; `shuffle = false` opts a test of
/// the default order out.
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

    /// The flavor when the arguments name none. As in tokio, a program's
    /// `main` gets worker threads, while each test gets a small runtime on its
    /// own thread: tests run in parallel already, and paused time (the usual
    /// reason to pass arguments to a test) needs a current-thread runtime.
    fn default_flavor(self) -> Flavor {
        match self {
            EntryPoint::Main => Flavor::MultiThread,
            EntryPoint::Test => Flavor::CurrentThread,
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
        (Ok((options, shuffle)), Ok(())) => expand(kind, options, shuffle, function),
        (options, signature) => {
            let errors = options.err().into_iter().chain(signature.err());
            let error = all_ok(errors).expect_err("one of them failed");
            with_error(stand_in(kind, function), error)
        }
    }
}

/// The runtime the attribute's arguments ask for. Arguments that do not go
/// together are rejected before this is built, so it cannot hold them.
enum Options {
    CurrentThread {
        /// `start_paused = true`: the runtime's clock starts paused (`mini::time::pause`).
        start_paused: bool,
    },
    /// Worker threads: `MultiThread` or `ThreadPerCore`.
    Workers {
        flavor: Flavor,
        /// `worker_threads = N`; `None` leaves the count to the runtime.
        worker_threads: Option<usize>,
    },
}

impl Options {
    /// The expression that makes the runtime's `Builder`. Only what the
    /// arguments set is passed on, so that the builder's defaults stay in one
    /// place.
    fn builder(&self) -> TokenStream2 {
        let (new, setting) = match *self {
            Options::CurrentThread { start_paused } => (
                quote!(new_current_thread),
                Some(quote!(builder.start_paused(#start_paused);)),
            ),
            Options::Workers { flavor, worker_threads } => (
                match flavor {
                    Flavor::ThreadPerCore => quote!(new_thread_per_core),
                    _ => quote!(new_multi_thread),
                },
                worker_threads.map(|threads| quote!(builder.worker_threads(#threads);)),
            ),
        };
        quote! {{
            let mut builder = ::mini::runtime::Builder::#new();
            #setting
            builder
        }}
    }

    /// How a test shuffles, from its `shuffle` argument (`None`: not given).
    fn shuffle_mode(&self, shuffle: Option<bool>) -> TokenStream2 {
        let mode = match (shuffle, self) {
            (Some(true), _) => quote!(Always),
            (Some(false), _) | (None, Options::Workers { .. }) => quote!(Never),
            (None, Options::CurrentThread { .. }) => quote!(FromEnv),
        };
        quote!(::mini::runtime::seeds::ShuffleMode::#mode)
    }
}

/// The kinds of runtime, as `flavor = "..."` names them.
#[derive(Clone, Copy)]
enum Flavor {
    CurrentThread,
    MultiThread,
    ThreadPerCore,
}

impl Flavor {
    /// Parses `flavor`'s value, a string literal naming a flavor.
    fn parse(value: &Expr) -> syn::Result<Flavor> {
        const EXPECTED: &str = "expected `\"current_thread\"`, `\"multi_thread\"` or `\"thread_per_core\"`";
        let Expr::Lit(ExprLit {
            lit: Lit::Str(name), ..
        }) = value
        else {
            return Err(syn::Error::new_spanned(
                value,
                format!("unknown flavor `{}`; {EXPECTED}", quote!(#value)),
            ));
        };
        match name.value().as_str() {
            "current_thread" => Ok(Flavor::CurrentThread),
            "multi_thread" => Ok(Flavor::MultiThread),
            "thread_per_core" => Ok(Flavor::ThreadPerCore),
            other => Err(syn::Error::new_spanned(
                name,
                format!("unknown flavor `{other}`; {EXPECTED}"),
            )),
        }
    }
}

/// The arguments the attributes take.
#[derive(Clone, Copy, PartialEq)]
enum Key {
    Flavor,
    WorkerThreads,
    StartPaused,
    Shuffle,
}

impl Key {
    const ALL: [Key; 4] = [Key::Flavor, Key::WorkerThreads, Key::StartPaused, Key::Shuffle];

    /// The argument `path` names, if the attributes take it.
    fn named(path: &Path) -> Option<Key> {
        Key::ALL.into_iter().find(|key| path.is_ident(key.name()))
    }

    fn name(self) -> &'static str {
        match self {
            Key::Flavor => "flavor",
            Key::WorkerThreads => "worker_threads",
            Key::StartPaused => "start_paused",
            Key::Shuffle => "shuffle",
        }
    }

    /// How the argument is written, for the error messages that say so.
    fn usage(self) -> &'static str {
        match self {
            Key::Flavor => "flavor = \"current_thread\"|\"multi_thread\"|\"thread_per_core\"",
            Key::WorkerThreads => "worker_threads = N",
            Key::StartPaused => "start_paused = true|false",
            Key::Shuffle => "shuffle",
        }
    }
}

/// An argument's value together with the argument's tokens, so that an error
/// about how it combines with the others can point at it.
struct Given<'a, T> {
    value: T,
    argument: &'a Meta,
}

/// The arguments as written, each at most once, before they are checked
/// against each other.
#[derive(Default)]
struct Written<'a> {
    flavor: Option<Flavor>,
    worker_threads: Option<Given<'a, usize>>,
    start_paused: Option<Given<'a, bool>>,
    /// `shuffle` (or `shuffle = true|false`), tests only.
    shuffle: Option<bool>,
}

impl<'a> Written<'a> {
    /// Records the argument `key` names, or says why its value will not do.
    fn add(&mut self, kind: EntryPoint, key: Key, argument: &'a Meta) -> syn::Result<()> {
        if key == Key::Shuffle {
            self.shuffle = Some(parse_shuffle(kind, argument)?);
            return Ok(());
        }
        let Meta::NameValue(pair) = argument else {
            return Err(syn::Error::new_spanned(
                argument,
                format!("`{}` takes a value: `{}`", key.name(), key.usage()),
            ));
        };
        let value = &pair.value;
        match key {
            Key::Flavor => self.flavor = Some(Flavor::parse(value)?),
            Key::WorkerThreads => {
                let value = parse_worker_threads(value)?;
                self.worker_threads = Some(Given { value, argument });
            }
            Key::StartPaused => {
                let value = parse_start_paused(value)?;
                self.start_paused = Some(Given { value, argument });
            }
            Key::Shuffle => unreachable!("handled above"),
        }
        Ok(())
    }

    /// Settles the flavor and rejects the arguments it cannot honour, at the
    /// argument to remove: the builder would otherwise ignore `worker_threads`
    /// on a current-thread runtime, and fail at run time to start a
    /// multi-threaded one paused.
    fn options(self, kind: EntryPoint) -> syn::Result<Options> {
        let flavor = match (self.flavor, &self.worker_threads) {
            (Some(flavor), _) => flavor,
            // Only a runtime with worker threads has them to count; the
            // multi-threaded one unless the arguments name another.
            (None, Some(_)) => Flavor::MultiThread,
            (None, None) => kind.default_flavor(),
        };
        match flavor {
            Flavor::CurrentThread => match self.worker_threads {
                Some(workers) => Err(syn::Error::new_spanned(
                    workers.argument,
                    "`worker_threads` needs `flavor = \"multi_thread\"` or `\"thread_per_core\"`: \
                     a current-thread runtime has no worker threads",
                )),
                None => Ok(Options::CurrentThread {
                    start_paused: self.start_paused.is_some_and(|paused| paused.value),
                }),
            },
            Flavor::MultiThread | Flavor::ThreadPerCore => match self.start_paused {
                Some(paused) if paused.value => {
                    // Say where the flavor came from when the arguments do not
                    // name it.
                    let why = match (self.flavor, &self.worker_threads) {
                        (Some(_), _) => String::new(),
                        (None, Some(_)) => " (`worker_threads` implies `flavor = \"multi_thread\"`)".to_owned(),
                        (None, None) => format!(" ({} defaults to `flavor = \"multi_thread\"`)", kind.attribute()),
                    };
                    Err(syn::Error::new_spanned(
                        paused.argument,
                        format!(
                            "`start_paused = true` needs `flavor = \"current_thread\"`: \
                             paused time is only available on a current-thread runtime{why}"
                        ),
                    ))
                }
                _ => Ok(Options::Workers {
                    flavor,
                    worker_threads: self.worker_threads.map(|workers| workers.value),
                }),
            },
        }
    }
}

/// Parses `#[mini::main(...)]`'s arguments as a comma-separated list of
/// `syn::Meta` (`name`, `name = value`, `name(...)`), taking
/// `flavor = "current_thread"|"multi_thread"`, `worker_threads = N` and
/// `start_paused = true|false`. An unknown, repeated or ill-formed argument is
/// an error at its own span, all of them reported at once; only when each
/// argument is fine on its own are they checked against each other, so that
/// a mistyped flavor does not also read as the default one.
fn parse_arguments(kind: EntryPoint, args: TokenStream2) -> syn::Result<(Options, Option<bool>)> {
    let arguments = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut written = Written::default();
    let mut seen = Vec::new();
    let mut errors = Vec::new();
    for argument in &arguments {
        let Some(key) = Key::named(argument.path()) else {
            errors.push(unknown_argument(kind, argument));
            continue;
        };
        // Which of two values would win is not obvious, so the second one is
        // an error, even when the first one was ill-formed.
        let added = if seen.contains(&key) {
            Err(syn::Error::new_spanned(
                argument,
                format!("duplicate attribute argument `{}`", key.name()),
            ))
        } else {
            written.add(kind, key, argument)
        };
        seen.push(key);
        errors.extend(added.err());
    }
    all_ok(errors)?;
    let shuffle = written.shuffle;
    Ok((written.options(kind)?, shuffle))
}

/// Parses `worker_threads`' value: a runtime needs at least one worker, and a
/// literal lets the count be checked here rather than by a panic at run time.
fn parse_worker_threads(value: &Expr) -> syn::Result<usize> {
    let Expr::Lit(ExprLit {
        lit: Lit::Int(threads), ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(
            value,
            "`worker_threads` takes an integer literal, such as `worker_threads = 4`",
        ));
    };
    match threads.base10_parse::<usize>()? {
        0 => Err(syn::Error::new_spanned(threads, "`worker_threads` must be at least 1")),
        count => Ok(count),
    }
}

fn parse_start_paused(value: &Expr) -> syn::Result<bool> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(paused), ..
        }) => Ok(paused.value),
        other => Err(syn::Error::new_spanned(other, "`start_paused` takes `true` or `false`")),
    }
}

/// Parses `shuffle` (on) or `shuffle = true|false`, which only a test takes.
fn parse_shuffle(kind: EntryPoint, argument: &Meta) -> syn::Result<bool> {
    if let EntryPoint::Main = kind {
        return Err(syn::Error::new_spanned(
            argument,
            "`shuffle` is for tests: use `#[mini::test(shuffle)]`, or `Builder::shuffle` on a runtime",
        ));
    }
    match argument {
        Meta::Path(_) => Ok(true),
        Meta::NameValue(pair) => match &pair.value {
            Expr::Lit(ExprLit { lit: Lit::Bool(on), .. }) => Ok(on.value),
            other => Err(syn::Error::new_spanned(other, "`shuffle` takes `true` or `false`")),
        },
        Meta::List(_) => Err(syn::Error::new_spanned(
            argument,
            "`shuffle` takes no list: write `shuffle` or `shuffle = false`",
        )),
    }
}

fn unknown_argument(kind: EntryPoint, argument: &Meta) -> syn::Error {
    let [flavor, worker_threads, start_paused, shuffle] = Key::ALL.map(Key::usage);
    let takes = match kind {
        EntryPoint::Main => format!("`{flavor}`, `{worker_threads}` and `{start_paused}`"),
        EntryPoint::Test => format!("`{flavor}`, `{worker_threads}`, `{start_paused}` and `{shuffle}`"),
    };
    let message = format!(
        "unknown attribute argument `{}`; {} takes {takes}",
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
/// blocks on `async move { body }` in a new runtime of the flavor `options`
/// asks for.
fn expand(kind: EntryPoint, options: Options, shuffle: Option<bool>, function: ItemFn) -> TokenStream2 {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    sig.asyncness = None;
    let test_attribute = kind.test_attribute();
    let builder = options.builder();
    // Spanned at the body so that a body whose type does not match the
    // return type is reported there, not at the attribute.
    let body_span = block.brace_token.span.join();
    let run = match kind {
        EntryPoint::Main => quote_spanned! {body_span=>
            #builder
                .build()
                .expect("failed to build the mini runtime")
                .block_on(async move #block)
        },
        // A test's body may run several times (one runtime per seed).
        EntryPoint::Test => {
            let mode = options.shuffle_mode(shuffle);
            quote_spanned! {body_span=>
                ::mini::runtime::seeds::run_test(#mode, || #builder, || async move #block)
            }
        }
    };
    quote! {
        #test_attribute
        #(#attrs)*
        #vis #sig {
            #run
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
