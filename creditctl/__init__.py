"""creditctl: the node operator's command line (onboarding, certificates, sharing list, coverage, supervision)."""
