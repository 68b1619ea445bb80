//! The diesel schema, shared by both backends (see migrations/sqlite and migrations/postgres).

diesel::table! {
    organizations (id) {
        id -> Text,
        slug -> Text,
        display_name -> Text,
        auto_assign_licenses -> Bool,
        profile_binding_policy -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        org_id -> Text,
        email -> Text,
        display_name -> Text,
        created_at -> Timestamp,
        last_sign_in_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    admin_accounts (id) {
        id -> Text,
        org_id -> Text,
        email -> Text,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    admin_sign_in_links (token_hash) {
        token_hash -> Text,
        admin_id -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        csrf_token -> Text,
        admin_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    sign_in_failures (id) {
        id -> Text,
        throttle_key -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        org_id -> Nullable<Text>,
        actor -> Text,
        action -> Text,
        target -> Nullable<Text>,
        details -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> organizations (org_id));
diesel::joinable!(admin_accounts -> organizations (org_id));
diesel::joinable!(admin_sign_in_links -> admin_accounts (admin_id));
diesel::joinable!(audit_events -> organizations (org_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    users,
    admin_accounts,
    admin_sign_in_links,
    sessions,
    sign_in_failures,
    audit_events,
);
