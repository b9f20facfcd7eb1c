# tflint's own ruleset, bundled with the tflint binary CI pins (tflint_version): no plugin to
# download, so `tflint --init` fetches nothing unpinned.
plugin "terraform" {
  enabled = true
  preset  = "recommended"
}
