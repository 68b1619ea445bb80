//! The diesel schema, shared by both backends (see migrations/sqlite and migrations/postgres).

diesel::table! {
    organizations (id) {
        id -> Text,
        slug -> Text,
        display_name -> Text,
        auto_assign_licenses -> Bool,
        profile_binding_policy -> Text,
        created_at -> Timestamp,
        clock_skew_seconds -> Integer,
        auto_assign_license_type -> Nullable<Text>,
        learner_session_minutes -> Integer,
        learner_sign_in -> Text,
        apps_require_license -> Bool,
    }
}

diesel::table! {
    linkedin_sign_ins (state_hash) {
        state_hash -> Text,
        browser_hash -> Text,
        invitation_id -> Nullable<Text>,
        nonce -> Text,
        pkce_verifier -> Nullable<Text>,
        expires_at -> Timestamp,
        return_to -> Text,
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
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        department -> Nullable<Text>,
        employee_id -> Nullable<Text>,
        is_admin -> Bool,
        linkedin_prompt_dismissed_at -> Nullable<Timestamp>,
        scim_config_id -> Nullable<Text>,
        user_name -> Nullable<Text>,
        user_name_key -> Nullable<Text>,
        external_id -> Nullable<Text>,
        manager_id -> Nullable<Text>,
        active -> Bool,
        version -> Integer,
        updated_at -> Nullable<Timestamp>,
        display_name_key -> Nullable<Text>,
        first_name_key -> Nullable<Text>,
        last_name_key -> Nullable<Text>,
        department_key -> Nullable<Text>,
        employee_id_key -> Nullable<Text>,
        manager_id_key -> Nullable<Text>,
    }
}

diesel::table! {
    scim_configs (id) {
        id -> Text,
        org_id -> Text,
        name -> Text,
        token_hash -> Text,
        auto_assign -> Bool,
        license_type -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    admin_accounts (id) {
        id -> Text,
        org_id -> Text,
        email -> Text,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
        operator -> Bool,
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
        flash -> Nullable<Text>,
        setup_link_id -> Nullable<Text>,
    }
}

diesel::table! {
    setup_links (id) {
        id -> Text,
        org_id -> Text,
        token_hash -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        opened_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
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

diesel::table! {
    idp_connections (id) {
        id -> Text,
        org_id -> Text,
        name -> Text,
        entity_id -> Text,
        sso_url -> Text,
        enabled -> Bool,
        allow_idp_initiated -> Bool,
        require_signed_assertion -> Bool,
        allow_sha1 -> Bool,
        attribute_preset -> Text,
        attribute_overrides -> Text,
        metadata_url -> Nullable<Text>,
        created_at -> Timestamp,
        metadata_fetched_at -> Nullable<Timestamp>,
        metadata_error -> Nullable<Text>,
        admin_role_attribute -> Nullable<Text>,
        admin_role_value -> Nullable<Text>,
        last_signed_in_at -> Nullable<Timestamp>,
        sign_requests -> Bool,
        force_authn -> Bool,
        name_id_format -> Nullable<Text>,
        authn_context_class -> Nullable<Text>,
        authn_context_comparison -> Text,
        require_encrypted_assertion -> Bool,
        sso_post_url -> Nullable<Text>,
        request_binding -> Text,
    }
}

diesel::table! {
    idp_certificates (connection_id, fingerprint_sha256) {
        connection_id -> Text,
        fingerprint_sha256 -> Text,
        der_base64 -> Text,
        subject -> Text,
        not_after -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    authn_requests (id) {
        id -> Text,
        org_id -> Text,
        connection_id -> Text,
        return_to -> Text,
        expires_at -> Timestamp,
        test -> Bool,
    }
}

diesel::table! {
    used_assertions (connection_id, assertion_id) {
        connection_id -> Text,
        assertion_id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    identities (connection_id, name_id) {
        connection_id -> Text,
        name_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sso_errors (id) {
        id -> Text,
        org_id -> Text,
        connection_id -> Nullable<Text>,
        reference -> Text,
        reason -> Text,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    license_pools (id) {
        id -> Text,
        org_id -> Text,
        license_type -> Text,
        seats -> Integer,
        assigned -> Integer,
        created_at -> Timestamp,
        exhausted_since -> Nullable<Timestamp>,
        wait_seq -> Integer,
    }
}

diesel::table! {
    license_assignments (id) {
        id -> Text,
        pool_id -> Text,
        user_id -> Text,
        cause -> Text,
        assigned_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoke_cause -> Nullable<Text>,
    }
}

diesel::table! {
    linkedin_bindings (user_id) {
        user_id -> Text,
        org_id -> Text,
        sub -> Text,
        name -> Nullable<Text>,
        email -> Nullable<Text>,
        picture -> Nullable<Text>,
        bound_at -> Timestamp,
    }
}

diesel::table! {
    oidc_pending (state_hash) {
        state_hash -> Text,
        session_hash -> Text,
        user_id -> Text,
        pkce_verifier -> Nullable<Text>,
        nonce -> Text,
        return_to -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    seat_waits (pool_id, user_id) {
        pool_id -> Text,
        user_id -> Text,
        cause -> Text,
        position -> Integer,
        since -> Timestamp,
    }
}

diesel::table! {
    scim_request_errors (id) {
        id -> Text,
        config_id -> Text,
        method -> Text,
        path -> Text,
        status -> Integer,
        detail -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    learner_groups (id) {
        id -> Text,
        org_id -> Text,
        display_name -> Text,
        external_id -> Nullable<Text>,
        scim_config_id -> Nullable<Text>,
        license_type -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        saml_attribute -> Nullable<Text>,
    }
}

diesel::table! {
    group_attributes (org_id, attribute) {
        org_id -> Text,
        attribute -> Text,
    }
}

diesel::table! {
    group_members (group_id, user_id) {
        group_id -> Text,
        user_id -> Text,
    }
}

diesel::joinable!(group_members -> learner_groups (group_id));
diesel::joinable!(group_members -> users (user_id));
diesel::joinable!(license_assignments -> license_pools (pool_id));
diesel::joinable!(seat_waits -> license_pools (pool_id));
diesel::joinable!(seat_waits -> users (user_id));
diesel::table! {
    org_email_domains (domain) {
        domain -> Text,
        org_id -> Text,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        org_id -> Text,
        user_id -> Text,
        token_hash -> Text,
        invited_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        send_error -> Nullable<Text>,
    }
}

diesel::joinable!(invitations -> users (user_id));
diesel::joinable!(org_email_domains -> organizations (org_id));
diesel::joinable!(users -> organizations (org_id));
diesel::joinable!(users -> scim_configs (scim_config_id));
diesel::joinable!(scim_configs -> organizations (org_id));
diesel::joinable!(idp_connections -> organizations (org_id));
diesel::joinable!(idp_certificates -> idp_connections (connection_id));
diesel::joinable!(identities -> users (user_id));
diesel::joinable!(identities -> idp_connections (connection_id));
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
    idp_connections,
    idp_certificates,
    authn_requests,
    used_assertions,
    identities,
    sso_errors,
    license_pools,
    license_assignments,
    linkedin_bindings,
    oidc_pending,
    org_email_domains,
    invitations,
    linkedin_sign_ins,
    scim_configs,
    seat_waits,
    learner_groups,
    group_members,
    scim_request_errors,
    group_attributes,
);

diesel::table! {
    imports (id) {
        id -> Text,
        org_id -> Text,
        source -> Text,
        file_name -> Text,
        started_by -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        created -> Integer,
        updated -> Integer,
        assigned -> Integer,
        revoked -> Integer,
        removed -> Integer,
        unchanged -> Integer,
        no_seat -> Integer,
        refused -> Integer,
        failure -> Nullable<Text>,
    }
}
diesel::table! {
    sso_tests (id) {
        id -> Text,
        org_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        report -> Text,
    }
}
diesel::table! {
    import_files (id) {
        id -> Text,
        org_id -> Text,
        file_name -> Text,
        uploaded_by -> Text,
        uploaded_at -> Timestamp,
        phase -> Text,
        content -> Binary,
        rows_total -> Nullable<Integer>,
        rows_done -> Integer,
        outcome -> Nullable<Text>,
        preview -> Nullable<Binary>,
        result -> Nullable<Binary>,
        send_invitations -> Bool,
        failure -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    applications (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Nullable<Text>,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        launch_url -> Text,
        id_token_alg -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oauth_codes (code_hash) {
        code_hash -> Text,
        application_id -> Text,
        user_id -> Text,
        redirect_uri -> Text,
        scope -> Text,
        nonce -> Nullable<Text>,
        code_challenge -> Nullable<Text>,
        auth_time -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_access_tokens (token_hash) {
        token_hash -> Text,
        code_hash -> Text,
        application_id -> Text,
        user_id -> Text,
        scope -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (application_id) {
        application_id -> Text,
        url -> Text,
        secret -> Text,
        events -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        application_id -> Text,
        event_type -> Text,
        payload -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (application_id));
diesel::allow_tables_to_appear_in_same_query!(webhooks, webhook_deliveries);

diesel::table! {
    job_leases (name) {
        name -> Text,
        holder -> Text,
        until -> Timestamp,
    }
}

diesel::table! {
    job_runs (id) {
        id -> Text,
        name -> Text,
        holder -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        failure -> Nullable<Text>,
    }
}
