//! drift.toml's settings and AWS profiles as a folder run meets them.

use super::*;

#[test]
fn drift_toml_sets_defaults_and_rejects_unknown_keys() {
    let _turn = serial();
    fresh_tables(&users(3));
    let project = Project::new(Some("meta_tabel = \"x\"\n"));
    project.add("0002.wasm", &guest("users_v2"));
    let typo = project.drift("run", &[]);
    expect(&typo, 2);
    assert!(stderr(&typo).contains("meta_tabel"), "{}", stderr(&typo));

    let meta = unique("toml_meta");
    std::fs::write(
        project.path().join("drift.toml"),
        format!("meta_table = \"{meta}\"\nconcurrency = 1\n"),
    )
    .unwrap();
    let dir = project.path().to_str().unwrap();
    let run = command(&["run", dir]).output().unwrap();
    expect(&run, 0);
    let status = command(&["status", "--meta-table", &meta, "--output", "json"])
        .output()
        .unwrap();
    expect(&status, 0);
    let document: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(document["migrations"][0]["status"], "applied");
}

/// `drift-host` with the AWS config file `config`. The environment keeps the test's access
/// keys: a profile named with `--profile` must win over them, as in the AWS CLI.
fn with_profile(config: &str, home: &Path, args: &[&str]) -> Output {
    let config_file = home.join("config");
    std::fs::write(&config_file, config).unwrap();
    std::fs::write(home.join("credentials"), "").unwrap();
    // What a user sees: the default log filter.
    command(args)
        .env_remove("DRIFT_LOG")
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", &config_file)
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .output()
        .unwrap()
}

#[test]
fn a_credential_process_profile_reaches_dynamodb_local() {
    let home = tempfile::tempdir().unwrap();
    let marker = home.path().join("asked");
    let script = home.path().join("credentials.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntouch '{}'\necho '{{\"Version\": 1, \"AccessKeyId\": \"proc\", \"SecretAccessKey\": \"proc\"}}'\n",
            marker.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = format!(
        "[profile build]\nregion = us-east-1\ncredential_process = {}\n",
        script.display()
    );
    let table = unique("process_profile");
    let input = home.path().join("items.json");
    std::fs::write(&input, "{\"Item\": {\"id\": {\"S\": \"a\"}}}\n").unwrap();
    let load = with_profile(
        &config,
        home.path(),
        &[
            "load",
            &table,
            "--input",
            input.to_str().unwrap(),
            "--create-key",
            "id",
            "--profile",
            "build",
        ],
    );
    expect(&load, 0);
    assert!(marker.exists(), "the credential process was not asked");
    assert_eq!(table_len(&table), 1);
}

fn table_len(name: &str) -> usize {
    block_on(async {
        client()
            .scan()
            .table_name(name)
            .send()
            .await
            .unwrap()
            .count() as usize
    })
}

#[test]
fn an_sso_profile_without_a_token_names_aws_sso_login() {
    let home = tempfile::tempdir().unwrap();
    let config = "[profile work]\nsso_session = corp\nsso_account_id = 111122223333\n\
                  sso_role_name = Migrator\nregion = us-east-1\n\
                  [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n\
                  sso_region = us-east-1\nsso_registration_scopes = sso:account:access\n";
    let status = with_profile(config, home.path(), &["status", "--profile", "work"]);
    expect(&status, 2);
    let why = stderr(&status);
    assert!(why.contains("aws sso login --profile work"), "{why}");
    assert_eq!(why.trim().lines().count(), 1, "{why}");
}

#[test]
fn drift_toml_endpoint_is_used_and_a_second_folder_run_waits_for_the_lock() {
    let _turn = serial();
    fresh_tables(&users(20));
    let project = Project::new(Some(&format!(
        "endpoint_url = \"{}\"\n{TOML}",
        crate::support::endpoint()
    )));
    project.add("0002.wasm", &guest("users_v2"));
    project.add("0003.wasm", &guest("users_by_email"));
    // No endpoint in the environment: drift.toml's is used.
    let dir = project.path().to_str().unwrap();
    let status = command(&[
        "status",
        dir,
        "--meta-table",
        &project.meta,
        "--output",
        "json",
    ])
    .env_remove("DRIFT_ENDPOINT_URL")
    .output()
    .unwrap();
    expect(&status, 0);
    // plan DIR plans the first pending migration only, writing nothing.
    let plan = command(&[
        "plan",
        dir,
        "--meta-table",
        &project.meta,
        "--output",
        "json",
    ])
    .env_remove("DRIFT_ENDPOINT_URL")
    .output()
    .unwrap();
    expect(&plan, 0);
    let report: Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(report["migration"]["number"], 2);
    assert_eq!(report["also_pending"], serde_json::json!([3]), "{report}");
    assert!(
        report["not_planned"]
            .as_str()
            .unwrap()
            .contains("cannot know"),
        "{report}"
    );
    // Two folder runs at once: the lock lets one through; the other is refused, then the
    // next run finds nothing to do.
    let mut first = command(&["run", dir, "--meta-table", &project.meta])
        .env_remove("DRIFT_ENDPOINT_URL")
        .spawn()
        .unwrap();
    let second = command(&["run", dir, "--meta-table", &project.meta])
        .env_remove("DRIFT_ENDPOINT_URL")
        .output()
        .unwrap();
    let first = first.wait().unwrap();
    let codes = [first.code(), second.status.code()];
    assert!(codes.contains(&Some(0)), "{codes:?} {}", stderr(&second));
    assert!(
        codes.iter().all(|c| matches!(c, Some(0) | Some(3))),
        "{codes:?} {}",
        stderr(&second)
    );
    expect(&project.drift("run", &[]), 0);
    assert_eq!(project.states(), states(&[(2, "applied"), (3, "applied")]));
    assert_eq!(table("users_by_email").len(), 20);
}
