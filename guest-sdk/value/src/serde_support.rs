//! Serde helpers that keep the encoding of drift-host's journal: a binary set is a sequence of
//! byte strings (MessagePack `bin`), as `Vec<serde_bytes::ByteBuf>` encoded it before this
//! crate existed.

/// `with` module for `Vec<Vec<u8>>` as a sequence of serde byte strings.
pub(crate) mod byte_strings {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        set: &[Vec<u8>],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(set.len()))?;
        for bytes in set {
            seq.serialize_element(serde_bytes::Bytes::new(bytes))?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Vec<u8>>, D::Error> {
        let set = Vec::<serde_bytes::ByteBuf>::deserialize(deserializer)?;
        Ok(set
            .into_iter()
            .map(serde_bytes::ByteBuf::into_vec)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Item, Value};

    /// The journal's encoding before this crate: the host's own enum, kept here as the
    /// reference the shared model must match byte for byte.
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    enum AttrValue {
        S(String),
        N(String),
        B(#[serde(with = "serde_bytes")] Vec<u8>),
        Bool(bool),
        Null,
        Ss(Vec<String>),
        Ns(Vec<String>),
        Bs(Vec<serde_bytes::ByteBuf>),
        L(Vec<AttrValue>),
        M(std::collections::BTreeMap<String, AttrValue>),
    }

    fn reference(value: &Value) -> AttrValue {
        match value {
            Value::S(s) => AttrValue::S(s.clone()),
            Value::N(n) => AttrValue::N(n.clone()),
            Value::B(b) => AttrValue::B(b.clone()),
            Value::Bool(b) => AttrValue::Bool(*b),
            Value::Null => AttrValue::Null,
            Value::Ss(s) => AttrValue::Ss(s.clone()),
            Value::Ns(s) => AttrValue::Ns(s.clone()),
            Value::Bs(s) => {
                AttrValue::Bs(s.iter().cloned().map(serde_bytes::ByteBuf::from).collect())
            }
            Value::L(l) => AttrValue::L(l.iter().map(reference).collect()),
            Value::M(m) => AttrValue::M(m.iter().map(|(k, v)| (k.clone(), reference(v))).collect()),
        }
    }

    #[test]
    fn messagepack_bytes_are_the_journals() {
        let item: Item = [
            ("a", Value::from("x")),
            ("b", Value::Null),
            ("c", Value::B(vec![1, 2])),
            ("d", Value::Bs(vec![vec![3]])),
            ("e", Value::L(vec![Value::number(7), Value::Bool(true)])),
            (
                "f",
                Value::M(Item::new().with("g", Value::Ss(vec!["h".into()]))),
            ),
        ]
        .into_iter()
        .collect();
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0x86, // map of 6 attributes
            0xa1, b'a', 0x81, 0xa1, b'S', 0xa1, b'x', // {"S": "x"}
            0xa1, b'b', 0xa4, b'N', b'u', b'l', b'l', // unit variant: its name
            0xa1, b'c', 0x81, 0xa1, b'B', 0xc4, 2, 1, 2, // bin 8
            0xa1, b'd', 0x81, 0xa2, b'B', b's', 0x91, 0xc4, 1, 3, // array of bin 8
            0xa1, b'e', 0x81, 0xa1, b'L', 0x92, 0x81, 0xa1, b'N', 0xa1, b'7', 0x81, 0xa4, b'B', b'o', b'o', b'l', 0xc3,
            0xa1, b'f', 0x81, 0xa1, b'M', 0x81, 0xa1, b'g', 0x81, 0xa2, b'S', b's', 0x91, 0xa1, b'h',
        ];
        let bytes = rmp_serde::to_vec(&item).unwrap();
        assert_eq!(bytes, expected);
        assert_eq!(rmp_serde::from_slice::<Item>(expected).unwrap(), item);
    }

    proptest::proptest! {
        #[test]
        fn encodes_as_the_hosts_attr_value(item in crate::testing::arb_item()) {
            let old: std::collections::BTreeMap<String, AttrValue> =
                item.iter().map(|(k, v)| (k.clone(), reference(v))).collect();
            let bytes = rmp_serde::to_vec(&item).unwrap();
            proptest::prop_assert_eq!(&bytes, &rmp_serde::to_vec(&old).unwrap());
            proptest::prop_assert_eq!(rmp_serde::from_slice::<Item>(&bytes).unwrap(), item);
        }
    }
}
