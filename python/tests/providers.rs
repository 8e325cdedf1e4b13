//! `type: python` providers: validation (`validate_python_activity` steps 3–5) and run
//! (`run_python_activity`), with chaostoolkit-lib 1.45.1's messages, argument injection,
//! exceptions and output encoding.

#![cfg(unix)]

mod common;

use common::{Modules, map};
use notifier_python::{
    Bridge, CallOptions, InterruptKind, Interruption, ProviderError, ProviderInvalid, PyException, PythonProvider,
};
use serde_json::{Map, Value, json};

const NOW: CallOptions = CallOptions::new();

const ACTS: &str = r#"
    import functools, time
    from os import getenv
    from os import getcwd
    from time import sleep

    def f(a, b=1):
        return [a, b]

    def two(a, b):
        return a

    async def coro():
        return 1

    lam = lambda x: x

    class K:
        pass

    class CallMe:
        def __call__(self):
            return 1

    inst = CallMe()
    part = functools.partial(f, 1)
    number = 3

    def posonly(a, /):
        return a

    def varpos(*args):
        return args

    def with_secrets(secrets):
        return secrets

    def with_secrets_default(secrets=None):
        return secrets

    def with_config(configuration, x=None):
        return {"configuration": configuration, "x": x}

    def with_both(configuration, secrets):
        return {"configuration": configuration, "secrets": secrets}

    def kw(**kwargs):
        return kwargs

    class Boom(Exception):
        pass

    def boom(msg="boom"):
        raise ValueError(msg)

    def boom_empty():
        raise ValueError()

    def boom_custom():
        raise Boom("custom")

    def boom_chained():
        try:
            {}["key"]
        except KeyError:
            raise RuntimeError("while handling")

    def boom_nested():
        def inner():
            raise ValueError("deep")
        inner()

    class InterruptExecution(Exception):
        pass

    class StopAll(InterruptExecution):
        pass

    def interrupt():
        raise InterruptExecution("stop the run")

    def interrupt_sub():
        raise StopAll("sub")

    def keyboard():
        raise KeyboardInterrupt()

    class Weird(BaseException):
        pass

    def weird():
        raise Weird("base")
"#;

fn modules() -> Modules {
    let m = Modules::new();
    m.add("acts", ACTS);
    m.add("needs_missing", "import surely_not_installed_dep\n");
    m.add("broken", "raise RuntimeError('broken at import')\n");
    m.add("pkg.sub", "def hello():\n    return 'from pkg.sub'\n");
    m
}

fn validate(bridge: &Bridge, kind: &str, func: &str, arguments: Value) -> Result<(), ProviderInvalid> {
    validate_in(bridge, "acts", kind, func, arguments)
}

fn validate_in(bridge: &Bridge, module: &str, kind: &str, func: &str, arguments: Value) -> Result<(), ProviderInvalid> {
    let arguments = map(arguments);
    let p = PythonProvider::new("my activity", kind, module, func).arguments(&arguments);
    bridge.validate_provider(&p, NOW).expect("bridge")
}

fn message(result: Result<(), ProviderInvalid>) -> String {
    match result {
        Err(invalid) => {
            assert!(invalid.is_invalid_activity(), "{invalid:?}");
            invalid.to_string()
        }
        Ok(()) => panic!("expected InvalidActivity"),
    }
}

fn crash(result: Result<(), ProviderInvalid>) -> PyException {
    match result {
        Err(invalid @ ProviderInvalid::Raised { .. }) | Err(invalid @ ProviderInvalid::ImportRaised { .. }) => {
            assert!(!invalid.is_invalid_activity());
            match invalid {
                ProviderInvalid::Raised { error } | ProviderInvalid::ImportRaised { error, .. } => error,
                _ => unreachable!(),
            }
        }
        other => panic!("expected a crash, got {other:?}"),
    }
}

#[test]
fn validation_messages_are_chaostoolkits() {
    let m = modules();
    let b = m.bridge();
    assert_eq!(
        message(validate_in(&b, "nope_module", "probe", "f", json!({}))),
        "could not find Python module 'nope_module' in activity 'my activity'"
    );
    // A dependency missing inside the module is an ImportError too.
    match validate_in(&b, "needs_missing", "probe", "f", json!({})) {
        Err(ProviderInvalid::ModuleNotFound { detail, .. }) => {
            assert_eq!(detail, "ModuleNotFoundError: No module named 'surely_not_installed_dep'");
        }
        other => panic!("{other:?}"),
    }
    for not_a_function in ["nope", "K", "inst", "part", "number"] {
        assert_eq!(
            message(validate(&b, "probe", not_a_function, json!({}))),
            format!(
                "The python module 'acts' does not expose a function called '{not_a_function}' in probe 'my activity'"
            )
        );
    }
    assert_eq!(
        message(validate(&b, "action", "nope", json!({}))),
        "The python module 'acts' does not expose a function called 'nope' in action 'my activity'"
    );
    assert_eq!(message(validate(&b, "probe", "f", json!({}))), "required argument 'a' is missing from activity 'f'");
    assert_eq!(
        message(validate(&b, "probe", "two", json!({}))),
        "required argument 'a' is missing from activity 'two'"
    );
    assert_eq!(
        message(validate(&b, "probe", "f", json!({"a": 1, "zzz": 2}))),
        "argument 'zzz' is not part of the function signature in activity 'f'"
    );
    assert_eq!(
        message(validate(&b, "probe", "varpos", json!({"x": 1}))),
        "argument 'x' is not part of the function signature in activity 'varpos'"
    );
}

#[test]
fn validation_accepts_functions_lambdas_coroutines_imported_functions_and_builtins() {
    let m = modules();
    let b = m.bridge();
    for (func, arguments) in [
        ("f", json!({"a": 1})),
        ("lam", json!({"x": 1})),
        ("coro", json!({})),
        ("getenv", json!({"key": "HOME"})),
        ("getcwd", json!({})),
        // The fake `secrets=None` / `configuration=None` make these bind.
        ("with_secrets", json!({})),
        ("with_config", json!({})),
        ("with_both", json!({})),
        ("kw", json!({"anything": 1})),
    ] {
        assert_eq!(validate(&b, "probe", func, arguments), Ok(()), "{func}");
    }
    assert_eq!(validate_in(&b, "pkg.sub", "probe", "hello", json!({})), Ok(()));
}

#[test]
fn where_chaostoolkit_crashes_validation_gives_the_python_error() {
    let m = modules();
    let b = m.bridge();
    let error = crash(validate_in(&b, "broken", "probe", "f", json!({})));
    assert_eq!((error.kind.as_str(), error.summary.as_str()), ("RuntimeError", "RuntimeError: broken at import"));
    assert!(error.traceback_text().contains("broken.py"), "{}", error.traceback_text());
    // Positional-only parameter passed by keyword: a TypeError chaostoolkit does not classify.
    let error = crash(validate(&b, "probe", "posonly", json!({"a": 1})));
    assert_eq!(error.kind, "TypeError");
    assert!(error.text.contains("'a'") && error.text.contains("positional"), "{}", error.text);
    // A builtin without a signature (Python < 3.13).
    let minor: u32 = b.python_version().unwrap().split('.').nth(1).unwrap().parse().unwrap();
    if minor < 13 {
        let error = crash(validate(&b, "probe", "sleep", json!({})));
        assert_eq!(error.summary, "ValueError: no signature found for builtin <built-in function sleep>");
    }
    // The bridge is fine after all that.
    assert!(b.ping(NOW).is_ok());
    assert_eq!(b.helper_starts(), 1);
}

fn run(b: &Bridge, func: &str, arguments: Value) -> Result<Value, ProviderError> {
    let arguments = map(arguments);
    b.run_provider(&PythonProvider::new(func, "action", "acts", func).arguments(&arguments), NOW).expect("bridge")
}

fn run_with(
    b: &Bridge,
    func: &str,
    arguments: Value,
    secrets: Option<&Map<String, Value>>,
    configuration: Option<&Map<String, Value>>,
) -> Result<Value, ProviderError> {
    let arguments = map(arguments);
    let mut p = PythonProvider::new(func, "action", "acts", func).arguments(&arguments);
    p.secrets = secrets;
    p.configuration = configuration;
    b.run_provider(&p, NOW).expect("bridge")
}

#[test]
fn arguments_are_passed_by_keyword_and_secrets_and_configuration_injected_as_chaostoolkit_does() {
    let m = modules();
    let b = m.bridge();
    assert_eq!(run(&b, "f", json!({"b": 2, "a": 1})), Ok(json!([1, 2])));
    let secrets = map(json!({"tok": "s3cr3t", "n": 5}));
    let empty = Map::new();
    let configuration = map(json!({"url": "http://x", "port": 8080}));

    // secrets only when the provider lists some AND the signature names `secrets`.
    assert_eq!(run_with(&b, "with_secrets", json!({}), Some(&secrets), None), Ok(json!({"tok": "s3cr3t", "n": 5})));
    assert_eq!(run_with(&b, "with_secrets", json!({}), Some(&empty), None), Ok(json!({})));
    assert_eq!(run_with(&b, "with_secrets_default", json!({}), None, Some(&configuration)), Ok(Value::Null));
    match run_with(&b, "with_secrets", json!({}), None, None) {
        Err(ProviderError::Failed(failure)) => {
            assert_eq!(failure.message, "TypeError: with_secrets() missing 1 required positional argument: 'secrets'")
        }
        other => panic!("{other:?}"),
    }
    // configuration whenever the signature names it, overriding a user argument of that name.
    assert_eq!(
        run_with(&b, "with_config", json!({"configuration": "mine", "x": 1}), None, Some(&configuration)),
        Ok(json!({"configuration": {"url": "http://x", "port": 8080}, "x": 1}))
    );
    assert_eq!(run_with(&b, "with_config", json!({}), None, None), Ok(json!({"configuration": {}, "x": null})));
    assert_eq!(
        run_with(&b, "with_both", json!({}), Some(&secrets), Some(&configuration)),
        Ok(json!({"configuration": configuration, "secrets": secrets}))
    );
    // **kwargs does not count as naming them: a user `configuration` passes through.
    assert_eq!(
        run_with(&b, "kw", json!({"configuration": "x", "a": 1}), Some(&secrets), Some(&configuration)),
        Ok(json!({"configuration": "x", "a": 1}))
    );
}

#[test]
fn outputs_are_encoded_like_the_journal_and_repr_where_chaostoolkit_would_crash() {
    let m = modules();
    m.add(
        "outs",
        r#"
        import datetime, decimal, enum, uuid

        class Color(enum.IntEnum):
            RED = 1

        class S(str):
            def __str__(self):
                return "not this"

        class Thing:
            def __repr__(self):
                return "<Thing 42>"

        class BadRepr:
            def __repr__(self):
                raise RuntimeError("no repr")

        def value(which):
            cyclic = [1]
            cyclic.append(cyclic)
            cyclic_dict = {"a": 1}
            cyclic_dict["self"] = cyclic_dict
            deep = []
            cur = deep
            for _ in range(200):
                nxt = []
                cur.append(nxt)
                cur = nxt
            return {
                "none": None,
                "tuple": (1, "a", (2, 3)),
                "aware": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
                "naive": datetime.datetime(2024, 1, 2, 3, 4, 5),
                "micro": datetime.datetime(2024, 1, 2, 3, 4, 5, 120),
                "date": datetime.date(2024, 1, 2),
                "decimal": decimal.Decimal("1.10"),
                "uuid": uuid.UUID(int=1),
                "keys": {1: "int", None: "none", 2.5: "float", True: "true", False: "false", float("nan"): "nan", float("inf"): "inf"},
                "tuple_key": {(1, 2): "t"},
                "unicode": "héllo ☕ \U0001F600",
                "set": {1},
                "frozenset": frozenset(),
                "bytes": b"ab\x00",
                "thing": Thing(),
                "bad_repr": BadRepr(),
                "nan": float("nan"),
                "floats": [float("inf"), -float("inf"), 1.5, -0.0],
                "big": 2 ** 70,
                "enum": Color.RED,
                "str_subclass": S("raw"),
                "bool": True,
                "time": datetime.time(1, 2),
                "cyclic": cyclic,
                "cyclic_dict": cyclic_dict,
                "deep": deep,
            }[which]

        def nan():
            return float("nan")

        def surrogate():
            return "a\udc80b"
    "#,
    );
    let b = m.bridge();
    let out = |which: &str| {
        let arguments = map(json!({"which": which}));
        b.run_provider(&PythonProvider::new("o", "probe", "outs", "value").arguments(&arguments), NOW)
            .expect("bridge")
            .unwrap_or_else(|e| panic!("{which}: {e:?}"))
    };
    assert_eq!(out("none"), Value::Null);
    assert_eq!(out("tuple"), json!([1, "a", [2, 3]]));
    assert_eq!(out("aware"), json!("2024-01-02T03:04:05+00:00"));
    assert_eq!(out("naive"), json!("2024-01-02T03:04:05"));
    assert_eq!(out("micro"), json!("2024-01-02T03:04:05.000120"));
    assert_eq!(out("date"), json!("2024-01-02"));
    assert_eq!(out("decimal"), json!("1.10"));
    assert_eq!(out("uuid"), json!("00000000-0000-0000-0000-000000000001"));
    // json's key rules, in insertion order (True == 1 overwrote the int key's value).
    assert_eq!(
        serde_json::to_string(&out("keys")).unwrap(),
        r#"{"1":"true","null":"none","2.5":"float","false":"false","NaN":"nan","Infinity":"inf"}"#
    );
    assert_eq!(out("tuple_key"), json!({"(1, 2)": "t"}));
    assert_eq!(out("unicode"), json!("héllo ☕ 😀"));
    // Where chaostoolkit crashes writing the journal: repr().
    assert_eq!(out("set"), json!("{1}"));
    assert_eq!(out("frozenset"), json!("frozenset()"));
    assert_eq!(out("bytes"), json!("b'ab\\x00'"));
    assert_eq!(out("thing"), json!("<Thing 42>"));
    assert_eq!(out("bad_repr"), json!("<unrepresentable BadRepr object>"));
    assert_eq!(out("time"), json!("datetime.time(1, 2)"));
    // NaN and infinities: null.
    assert_eq!(out("nan"), Value::Null);
    assert_eq!(out("floats"), json!([null, null, 1.5, -0.0]));
    assert_eq!(out("big"), json!(1_180_591_620_717_411_303_424.0_f64));
    assert_eq!(out("enum"), json!(1));
    assert_eq!(out("str_subclass"), json!("raw"));
    assert_eq!(out("bool"), json!(true));
    assert_eq!(out("cyclic"), json!([1, "[...]"]));
    assert_eq!(out("cyclic_dict"), json!({"a": 1, "self": "{...}"}));
    // 200 levels: cut at 126 with notifier's marker.
    let mut deep = out("deep");
    let mut depth = 1;
    while let Value::Array(items) = deep {
        deep = items.into_iter().next().unwrap();
        depth += 1;
    }
    assert_eq!((depth, deep), (127, json!("[omitted: nested deeper than 126 levels]")));
    // Lone surrogates cannot be UTF-8: replaced.
    let s = b.run_provider(&PythonProvider::new("o", "probe", "outs", "surrogate"), NOW).unwrap().unwrap();
    assert!(s.as_str().is_some_and(|s| s.starts_with('a') && s.ends_with('b') && s.contains('\u{fffd}')), "{s}");
}

fn failure(result: Result<Value, ProviderError>) -> (String, Vec<String>) {
    match result {
        Err(ProviderError::Failed(f)) => (f.message, f.exception),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn exceptions_become_the_journals_message_and_exception_lines() {
    let m = modules();
    let b = m.bridge();
    let file = m.path().join("acts.py");
    let file = file.display();

    let (msg, lines) = failure(run(&b, "boom", json!({})));
    assert_eq!(msg, "ValueError: boom");
    assert_eq!(lines.len(), 5, "{lines:#?}");
    assert_eq!(lines[0], "Traceback (most recent call last):\n");
    assert!(lines[1].starts_with(&format!("  File \"{file}\", line ")), "{lines:#?}");
    assert!(lines[1].contains(", in boom\n    raise ValueError(msg)\n"), "{lines:#?}");
    assert_eq!(lines[2], "ValueError: boom\n");
    assert_eq!(lines[3], "\nDuring handling of the above exception, another exception occurred:\n\n");
    assert_eq!(lines[4], "chaoslib.exceptions.ActivityFailed: ValueError: boom\n");
    assert!(lines.iter().all(|l| l.ends_with('\n')));

    assert_eq!(failure(run(&b, "boom_empty", json!({}))).0, "ValueError");
    assert_eq!(failure(run(&b, "boom_custom", json!({}))).0, "acts.Boom: custom");
    let (msg, lines) = failure(run(&b, "boom", json!({"msg": "two\nlines"})));
    assert_eq!(msg, "ValueError: two\nlines");
    assert_eq!(lines.last().unwrap(), "chaoslib.exceptions.ActivityFailed: ValueError: two\nlines\n");

    let (msg, lines) = failure(run(&b, "boom_chained", json!({})));
    assert_eq!(msg, "RuntimeError: while handling");
    let text = lines.concat();
    assert_eq!(text.matches("During handling of the above exception").count(), 2, "{text}");
    assert!(text.contains("KeyError: 'key'"), "{text}");

    let (_, lines) = failure(run(&b, "boom_nested", json!({})));
    let text = lines.concat();
    assert!(text.contains("in boom_nested") && text.contains("in inner"), "{text}");
    // No frame of the bridge's own code.
    for (_, lines) in [failure(run(&b, "boom", json!({}))), failure(run(&b, "boom_nested", json!({})))] {
        let text = lines.concat();
        assert!(!text.contains("<string>") && !text.contains("_op_run_provider"), "{text}");
        assert_eq!(text.matches("  File ").count(), text.matches(&*file.to_string()).count(), "{text}");
    }
}

#[test]
fn interruptions_exits_and_escapes_are_distinct_outcomes() {
    let m = modules();
    let b = m.bridge();
    assert_eq!(
        run(&b, "interrupt", json!({})),
        Err(ProviderError::Interrupted(Interruption {
            kind: InterruptKind::InterruptExecution,
            message: "stop the run".into()
        }))
    );
    // A subclass of a class named InterruptExecution counts too.
    assert_eq!(
        run(&b, "interrupt_sub", json!({})),
        Err(ProviderError::Interrupted(Interruption {
            kind: InterruptKind::InterruptExecution,
            message: "sub".into()
        }))
    );
    match run(&b, "keyboard", json!({})) {
        Err(ProviderError::Interrupted(i)) => {
            assert_eq!(i.kind, InterruptKind::KeyboardInterrupt);
            assert_eq!(i.to_string(), "KeyboardInterrupt");
        }
        other => panic!("{other:?}"),
    }
    // What run_python_activity lets escape: a missing attribute, an unimportable module, an
    // exotic BaseException.
    match run(&b, "nope", json!({})) {
        Err(ProviderError::Escaped(e)) => {
            assert_eq!(e.summary, "AttributeError: module 'acts' has no attribute 'nope'")
        }
        other => panic!("{other:?}"),
    }
    let p = PythonProvider::new("x", "action", "not_there_at_all", "f");
    match b.run_provider(&p, NOW).unwrap() {
        Err(ProviderError::Escaped(e)) => assert_eq!(e.kind, "ModuleNotFoundError"),
        other => panic!("{other:?}"),
    }
    match run(&b, "weird", json!({})) {
        Err(ProviderError::Escaped(e)) => assert_eq!((e.kind.as_str(), e.text.as_str()), ("acts.Weird", "base")),
        other => panic!("{other:?}"),
    }
    // Without validation, getattr finds anything: a class is instantiated.
    assert_eq!(run(&b, "K", json!({})).unwrap().as_str().map(|s| s.starts_with("<acts.K object at ")), Some(true));
    assert_eq!(b.helper_starts(), 1);
}

#[test]
fn module_state_persists_between_calls_of_one_bridge() {
    let m = Modules::new();
    m.add("counter", "n = 0\ndef inc():\n    global n\n    n += 1\n    return n\n");
    let b = m.bridge();
    let p = PythonProvider::new("c", "action", "counter", "inc");
    for expected in 1..=3 {
        assert_eq!(b.run_provider(&p, NOW).unwrap(), Ok(json!(expected)));
    }
    assert_eq!(b.run_provider(&p, NOW.background(true)).unwrap(), Ok(json!(4)));
}
