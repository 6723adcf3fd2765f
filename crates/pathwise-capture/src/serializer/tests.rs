use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::ser::{Error as _, SerializeSeq as _};
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use super::ELIDED;
use crate::{CaptureOptions, summarize_serialize};

fn sum<T: Serialize + ?Sized>(value: &T) -> Value {
    summarize_serialize(value, &CaptureOptions::default())
}

fn with(f: impl FnOnce(&mut CaptureOptions)) -> CaptureOptions {
    let mut opts = CaptureOptions::default();
    f(&mut opts);
    opts
}

#[derive(Serialize)]
struct Unit;

#[derive(Serialize)]
struct Meters(f64);

#[derive(Serialize)]
struct Pair(u8, &'static str);

#[derive(Serialize)]
enum Event {
    Start,
    Moved(i32),
    Line(i32, i32),
    Login {
        user: &'static str,
        password: &'static str,
    },
}

#[test]
fn primitives() {
    assert_eq!(sum(&true), json!(true));
    assert_eq!(sum(&-7i8), json!(-7));
    assert_eq!(sum(&i64::MIN), json!(i64::MIN));
    assert_eq!(sum(&u64::MAX), json!(u64::MAX));
    assert_eq!(sum(&1.5f32), json!(1.5));
    assert_eq!(sum(&0.25f64), json!(0.25));
    assert_eq!(sum(&f64::NAN), json!("NaN"));
    assert_eq!(sum(&f64::INFINITY), json!("inf"));
    assert_eq!(sum(&f32::NEG_INFINITY), json!("-inf"));
    assert_eq!(sum(&'λ'), json!("λ"));
    assert_eq!(sum(&()), Value::Null);
    assert_eq!(sum(&None::<u8>), Value::Null);
    assert_eq!(sum(&Some(5u8)), json!(5));
}

#[test]
fn wide_integers() {
    assert_eq!(sum(&7u128), json!(7));
    assert_eq!(sum(&-7i128), json!(-7));
    assert_eq!(sum(&(u64::MAX as i128)), json!(u64::MAX));
    assert_eq!(sum(&u128::MAX), json!(u128::MAX.to_string()));
    assert_eq!(sum(&i128::MIN), json!(i128::MIN.to_string()));
}

#[test]
fn structs_and_enums() {
    assert_eq!(sum(&Unit), json!("Unit"));
    assert_eq!(sum(&Meters(2.5)), json!(2.5));
    assert_eq!(sum(&Pair(1, "a")), json!([1, "a"]));
    assert_eq!(sum(&Event::Start), json!("Start"));
    assert_eq!(sum(&Event::Moved(-3)), json!({"Moved": -3}));
    assert_eq!(sum(&Event::Line(1, 2)), json!({"Line": [1, 2]}));
    assert_eq!(
        sum(&Event::Login {
            user: "u",
            password: "p"
        }),
        json!({"Login": {"user": "u", "password": "***"}})
    );
    let ok: Result<u8, String> = Ok(1);
    assert_eq!(sum(&ok), json!({"Ok": 1}));
}

#[test]
fn string_truncation_exact_text() {
    let opts = with(|o| o.max_repr = 10);
    assert_eq!(
        summarize_serialize(&"a".repeat(300), &opts),
        json!("aaaaaaaaaa…(+290 chars)")
    );
    assert_eq!(
        summarize_serialize("0123456789", &opts),
        json!("0123456789")
    );
    // Multibyte: counted in chars, cut on a char boundary.
    let s = "日本語".repeat(5); // 15 chars, 45 bytes
    assert_eq!(
        summarize_serialize(&s, &opts),
        json!("日本語日本語日本語日…(+5 chars)")
    );
    assert_eq!(
        summarize_serialize(&"é".repeat(10), &opts),
        json!("é".repeat(10))
    );
}

#[test]
fn display_via_collect_str_is_bounded() {
    struct Loud;
    impl std::fmt::Display for Loud {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            for _ in 0..1_000_000 {
                f.write_str("0123456789")?;
            }
            Ok(())
        }
    }
    struct ViaDisplay;
    impl Serialize for ViaDisplay {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(&Loud)
        }
    }
    let opts = with(|o| o.max_repr = 12);
    assert_eq!(
        summarize_serialize(&ViaDisplay, &opts),
        json!("012345678901…")
    );
}

#[test]
fn bytes_are_described_not_dumped() {
    struct Blob(Vec<u8>);
    impl Serialize for Blob {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }
    assert_eq!(
        sum(&Blob(vec![0; 4096])),
        json!({"type": "bytes", "len": 4096})
    );
}

#[derive(Serialize, Clone)]
struct Item {
    id: u32,
    name: String,
}

fn item(id: u32) -> Item {
    Item {
        id,
        name: format!("item{id}"),
    }
}

#[test]
fn long_sequence_of_structs() {
    let items: Vec<Item> = (0..100).map(item).collect();
    let v = sum(&items);
    let arr = v.as_array().expect("array");
    assert_eq!(arr.len(), 11);
    assert_eq!(arr[0], json!({"id": 0, "name": "item0"}));
    assert_eq!(arr[9], json!({"id": 9, "name": "item9"}));
    assert_eq!(arr[10], json!("+90 more"));
}

#[test]
fn sequences_without_known_length_buffer_at_most_max_items() {
    // An iterator-backed sequence reports no length up front.
    struct Stream(u32);
    impl Serialize for Stream {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(None)?;
            for i in 0..self.0 {
                seq.serialize_element(&format!("s{i}"))?;
            }
            seq.end()
        }
    }
    let opts = with(|o| o.max_items = 2);
    assert_eq!(
        summarize_serialize(&Stream(5), &opts),
        json!(["s0", "s1", "+3 more"])
    );
    assert_eq!(summarize_serialize(&Stream(2), &opts), json!(["s0", "s1"]));
    assert_eq!(summarize_serialize(&Stream(0), &opts), json!([]));
}

#[test]
fn numeric_vectors_collapse() {
    assert_eq!(
        sum(&vec![1.5f64; 1000]),
        json!({"type": "[f64]", "len": 1000})
    );
    assert_eq!(sum(&vec![-1i32; 17]), json!({"type": "[i64]", "len": 17}));
    assert_eq!(sum(&vec![7u8; 17]), json!({"type": "[u64]", "len": 17}));
    // At the threshold it is still a list (then truncated as usual).
    let v = sum(&vec![1u8; 16]);
    assert_eq!(v.as_array().unwrap().len(), 11);
    assert_eq!(v[10], json!("+6 more"));
    assert_eq!(sum(&[1, 2, 3]), json!([1, 2, 3]));
    // Mixed ints and floats from a dynamic value become [f64].
    let mixed: Vec<Value> = (0..20)
        .map(|i| {
            if i % 2 == 0 {
                json!(i)
            } else {
                json!(i as f64 + 0.5)
            }
        })
        .collect();
    assert_eq!(sum(&mixed), json!({"type": "[f64]", "len": 20}));
}

#[test]
fn a_late_non_number_keeps_the_list() {
    let mut v: Vec<Value> = (0..30).map(|i| json!(i)).collect();
    v.push(json!("not a number"));
    let s = sum(&v);
    assert_eq!(s.as_array().unwrap().len(), 11);
    assert_eq!(s[10], json!("+21 more"));
}

#[test]
fn numeric_matrices_report_shape() {
    let m = vec![vec![0.5f32; 50]; 50];
    assert_eq!(sum(&m), json!({"type": "[f64]", "shape": [50, 50]}));
    // 3×4 = 12 elements: under the default threshold, shown as nested lists...
    let small = vec![vec![1i64, 2, 3, 4]; 3];
    assert_eq!(
        sum(&small),
        json!([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]])
    );
    // ...but collapsed with a lower threshold.
    let opts = with(|o| o.numeric_vector_threshold = 5);
    assert_eq!(
        summarize_serialize(&small, &opts),
        json!({"type": "[i64]", "shape": [3, 4]})
    );
    // Tuples count as rows too.
    let pairs: Vec<(f64, f64)> = vec![(0.0, 1.0); 100];
    assert_eq!(sum(&pairs), json!({"type": "[f64]", "shape": [100, 2]}));
}

#[test]
fn ragged_rows_are_not_a_matrix() {
    let mut rows = vec![vec![1.0f64; 4]; 20];
    rows.push(vec![1.0; 3]); // past max_items, so only the probe sees it
    let v = sum(&rows);
    assert_eq!(v.as_array().unwrap().len(), 11);
    assert_eq!(v[0], json!([1.0, 1.0, 1.0, 1.0]));
    assert_eq!(v[10], json!("+11 more"));
}

#[test]
fn maps() {
    let hm: HashMap<String, i32> = HashMap::from([("a".into(), 1), ("b".into(), 2)]);
    assert_eq!(sum(&hm), json!({"a": 1, "b": 2}));
    let bm: BTreeMap<u32, &str> = BTreeMap::from([(1, "x"), (2, "y")]);
    assert_eq!(sum(&bm), json!({"1": "x", "2": "y"}));
    let bools = BTreeMap::from([(true, 1)]);
    assert_eq!(sum(&bools), json!({"true": 1}));
    let complex = BTreeMap::from([((1, "k"), 0)]);
    assert_eq!(sum(&complex), json!({r#"[1,"k"]"#: 0}));
    let set: BTreeSet<u8> = (0..3).collect();
    assert_eq!(sum(&set), json!([0, 1, 2]));
}

#[test]
fn large_maps_are_cut() {
    let big: BTreeMap<String, u32> = (0..25).map(|i| (format!("k{i:02}"), i)).collect();
    let v = sum(&big);
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), 11);
    assert_eq!(obj["k00"], json!(0));
    assert_eq!(obj["k09"], json!(9));
    assert!(!obj.contains_key("k10"));
    assert_eq!(obj["+more"], json!("15 more"));
}

#[test]
fn structs_show_twice_max_items_fields() {
    #[derive(Serialize)]
    struct Wide {
        a: u8,
        b: u8,
        c: u8,
        d: u8,
        e: u8,
    }
    let opts = with(|o| o.max_items = 2);
    let v = summarize_serialize(
        &Wide {
            a: 1,
            b: 2,
            c: 3,
            d: 4,
            e: 5,
        },
        &opts,
    );
    assert_eq!(
        v,
        json!({"a": 1, "b": 2, "c": 3, "d": 4, "+more": "1 more"})
    );
}

/// Counts how often it is serialized, to prove masked values are skipped.
struct Tattle<'a>(&'a Cell<u32>);

impl Serialize for Tattle<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.set(self.0.get() + 1);
        s.serialize_str("leaked")
    }
}

#[test]
fn nested_secrets_are_masked_without_serializing() {
    #[derive(Serialize)]
    struct Outer<'a> {
        name: &'static str,
        layers: Vec<BTreeMap<&'static str, Tattle<'a>>>,
    }
    let calls = Cell::new(0);
    let outer = Outer {
        name: "svc",
        layers: vec![BTreeMap::from([
            ("api_key", Tattle(&calls)),
            ("GitHub-Token", Tattle(&calls)),
            ("region", Tattle(&calls)),
        ])],
    };
    let v = sum(&outer);
    assert_eq!(
        v,
        json!({"name": "svc", "layers": [{"api_key": "***", "GitHub-Token": "***", "region": "leaked"}]})
    );
    assert_eq!(calls.get(), 1, "only the non-secret value is serialized");
}

#[test]
fn secret_struct_fields_at_depth() {
    #[derive(Serialize)]
    struct Db {
        host: &'static str,
        db_password: &'static str,
    }
    #[derive(Serialize)]
    struct Cfg {
        dbs: Vec<Db>,
    }
    let v = sum(&Cfg {
        dbs: vec![Db {
            host: "h",
            db_password: "pw",
        }],
    });
    assert_eq!(v, json!({"dbs": [{"host": "h", "db_password": "***"}]}));
}

#[test]
fn configured_redact_names() {
    let opts = with(|o| o.redact = vec!["ssn".into()]);
    let v = json!({"SSN": "123-45-6789", "name": "x"});
    assert_eq!(
        summarize_serialize(&v, &opts),
        json!({"SSN": "***", "name": "x"})
    );
    assert_eq!(sum(&v), v, "not masked without the option");
}

#[test]
fn json_values_are_masked_too() {
    let v = json!({"user": {"password": "x", "name": "n"}, "list": [{"token": 1}]});
    assert_eq!(
        sum(&v),
        json!({"user": {"password": "***", "name": "n"}, "list": [{"token": "***"}]})
    );
}

#[test]
fn depth_limit_elides_containers() {
    let deep = json!([[[[[[[1]]]]]]]);
    let opts = with(|o| o.max_depth = 2);
    assert_eq!(summarize_serialize(&deep, &opts), json!([[[ELIDED]]]));
    let obj = json!({"a": {"b": {"c": 1}}, "n": 1});
    let opts = with(|o| o.max_depth = 1);
    assert_eq!(
        summarize_serialize(&obj, &opts),
        json!({"a": {"b": ELIDED}, "n": 1})
    );
    // Scalars are never elided.
    let opts = with(|o| o.max_depth = 0);
    assert_eq!(summarize_serialize(&5, &opts), json!(5));
    assert_eq!(summarize_serialize(&[Some(1)], &opts), json!([1]));
}

#[test]
fn recursive_newtype_chains_are_bounded() {
    #[derive(Serialize)]
    struct Node(Option<Box<Node>>);
    let mut node = Node(None);
    for _ in 0..1000 {
        node = Node(Some(Box::new(node)));
    }
    assert_eq!(sum(&node), json!(ELIDED));
    // Dropping a 1000-deep Box chain recursively is fine on a test stack.
}

struct Failing;

impl Serialize for Failing {
    fn serialize<S: Serializer>(&self, _s: S) -> Result<S::Ok, S::Error> {
        Err(S::Error::custom("nope"))
    }
}

#[test]
fn serialize_errors_fall_back() {
    let name = std::any::type_name::<Failing>();
    assert_eq!(sum(&Failing), json!({"type": name}));
    // A failing element only replaces itself.
    #[derive(Serialize)]
    struct Holder {
        ok: u8,
        bad: Failing,
    }
    assert_eq!(
        sum(&Holder {
            ok: 1,
            bad: Failing
        }),
        json!({"ok": 1, "bad": {"type": name}})
    );
    assert_eq!(sum(&vec![Failing]), json!([{"type": name}]));
    // Past max_items the probe also tolerates errors.
    let many: Vec<Failing> = (0..20).map(|_| Failing).collect();
    assert_eq!(sum(&many).as_array().unwrap().len(), 11);
}

#[test]
fn panicking_serialize_falls_back() {
    struct Bomb;
    impl Serialize for Bomb {
        fn serialize<S: Serializer>(&self, _s: S) -> Result<S::Ok, S::Error> {
            panic!("Serialize impl panicked on purpose")
        }
    }
    assert_eq!(
        sum(&vec![Bomb]),
        json!({"type": std::any::type_name::<Vec<Bomb>>()})
    );
}
