//! Closed vocabularies (states, actions, sources, kinds, classes): one Rust enum each, declared
//! once with its stable code and Chinese label. The code is what the database, the JSON API,
//! forms and stored rules carry; the label is what people read.
//!
//! `vocab!` generates `ALL`, `as_str`, `label`, `parse` (the code), `parse_any` (the code or the
//! label, for Excel sheets), `Display` (the label), serde (the code, refusing unknown codes in
//! Chinese), the OpenAPI schema (a string enum) and the SQL codec, so rows decode straight into
//! the enum: an unknown code in the database is a decode error, never a silent default. The
//! codec only describes how a value is written; no IO happens here.

/// The SQL text codec and serde for a type with `as_str`, `parse` and `WHAT`.
#[macro_export]
macro_rules! text_codec {
    ($name:ident) => {
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::parse(s.trim())
                    .ok_or_else(|| serde::de::Error::custom(format!("“{}”不是有效的{}", s, $name::WHAT)))
            }
        }

        impl sqlx::Type<sqlx::Any> for $name {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                <str as sqlx::Type<sqlx::Any>>::type_info()
            }
        }

        impl<'q> sqlx::Encode<'q, sqlx::Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<'q, sqlx::Any>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Any> for $name {
            fn decode(value: <sqlx::Any as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let s = <String as sqlx::Decode<'r, sqlx::Any>>::decode(value)?;
                $name::parse(&s)
                    .ok_or_else(|| format!("unknown {} code {s:?} in the database", stringify!($name)).into())
            }
        }
    };
}

/// Declares a vocabulary: `Variant("code", "中文")` per value.
#[macro_export]
macro_rules! vocab {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident ($code:literal, $label:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order (the order lists and selects show).
            pub const ALL: [$name; [$($code),+].len()] = [$($name::$variant),+];
            /// What the vocabulary names, in Chinese (for messages).
            pub const WHAT: &'static str = $what;

            /// The stable code stored and sent.
            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $code ),+ }
            }

            /// The Chinese name shown to people.
            pub const fn label(self) -> &'static str {
                match self { $( $name::$variant => $label ),+ }
            }

            /// The value of a code.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $( $code => Some($name::$variant), )+ _ => None }
            }

            /// The value of a code or of a Chinese label (sheets carry labels).
            pub fn parse_any(s: &str) -> Option<$name> {
                let s = s.trim();
                Self::parse(s).or_else(|| Self::ALL.into_iter().find(|v| v.label() == s))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }

        $crate::text_codec!($name);

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(format!(
                        "{}: {}",
                        $what,
                        [$(concat!($code, " ", $label)),+].join(", ")
                    )))
                    .enum_values(Some([$($code),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

#[cfg(test)]
mod tests {
    crate::vocab! {
        /// A test vocabulary.
        pub enum Colour: "颜色" {
            Red("red", "红"),
            Green("green", "绿"),
        }
    }

    #[test]
    fn codes_labels_and_serde_round_trip() {
        assert_eq!(Colour::ALL.len(), 2);
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.as_str()), Some(c));
            assert_eq!(Colour::parse_any(c.label()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<Colour>(&json).unwrap(), c);
        }
        assert_eq!(Colour::Green.to_string(), "绿");
        let e = serde_json::from_str::<Colour>("\"blue\"").unwrap_err().to_string();
        assert!(e.contains("“blue”不是有效的颜色"), "{e}");
    }
}
