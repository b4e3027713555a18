//! Which worker this process is.

use anyhow::{anyhow, bail, Result};

/// The worker index this process is, from `--worker-index`, else the environment of the job
/// engines that start workers by index (`JOB_COMPLETION_INDEX` of a Kubernetes Indexed Job,
/// `AWS_BATCH_JOB_ARRAY_INDEX` of an AWS Batch array job); checked against `workers`.
pub fn worker_index(
    given: Option<u32>,
    environment: impl Fn(&str) -> Option<String>,
    workers: u32,
) -> Result<u32> {
    let (index, from) = match given {
        Some(index) => (index.to_string(), "--worker-index".to_owned()),
        None => {
            let found = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"]
                .into_iter()
                .find_map(|name| environment(name).map(|value| (value, name.to_owned())));
            found.ok_or_else(|| {
                anyhow!(
                    "--workers {workers} needs this worker's index: --worker-index I, or \
                     JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or AWS_BATCH_JOB_ARRAY_INDEX \
                     (AWS Batch array job) in the environment"
                )
            })?
        }
    };
    let parsed: u32 = index.trim().parse().map_err(|_| {
        anyhow!(
            "{from} is `{index}`: not a worker index (0 to {})",
            workers - 1
        )
    })?;
    if parsed >= workers {
        bail!(
            "{from} is {parsed}: with --workers {workers} the indexes are 0 to {}",
            workers - 1
        );
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_index_comes_from_the_flag_then_kubernetes_then_aws_batch() {
        let both = [
            ("JOB_COMPLETION_INDEX", "2"),
            ("AWS_BATCH_JOB_ARRAY_INDEX", "1"),
        ];
        assert_eq!(worker_index(Some(0), env(&both), 3).unwrap(), 0);
        assert_eq!(worker_index(None, env(&both), 3).unwrap(), 2);
        let batch = [("AWS_BATCH_JOB_ARRAY_INDEX", "1")];
        assert_eq!(worker_index(None, env(&batch), 3).unwrap(), 1);
    }

    #[test]
    fn a_missing_or_out_of_range_index_is_one_clear_line() {
        let none = worker_index(None, env(&[]), 3).unwrap_err().to_string();
        assert!(
            none.contains("--worker-index I, or JOB_COMPLETION_INDEX"),
            "{none}"
        );
        let over = worker_index(Some(3), env(&[]), 3).unwrap_err().to_string();
        assert_eq!(
            over,
            "--worker-index is 3: with --workers 3 the indexes are 0 to 2"
        );
        let bad = worker_index(None, env(&[("JOB_COMPLETION_INDEX", "x")]), 2)
            .unwrap_err()
            .to_string();
        assert_eq!(
            bad,
            "JOB_COMPLETION_INDEX is `x`: not a worker index (0 to 1)"
        );
    }
}
