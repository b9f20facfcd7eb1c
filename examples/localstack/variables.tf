variable "localstack_endpoint" {
  description = "LocalStack's edge endpoint."
  type        = string
  default     = "http://localhost:4566"

  validation {
    condition     = can(regex("^https?://[^/]+/?$", var.localstack_endpoint))
    error_message = "localstack_endpoint must be a URL such as http://localhost:4566."
  }
}

variable "cache_endpoints" {
  description = "host:port of a memcached the functions can reach from LocalStack's Lambda containers (e.g. memcached -l 0.0.0.0 on the host)."
  type        = list(string)
  default     = ["host.docker.internal:11211"]

  validation {
    condition     = length(var.cache_endpoints) > 0
    error_message = "cache_endpoints needs at least one host:port."
  }
}

variable "powertools_layer_arn" {
  description = "Powertools v3 layer ARN inside LocalStack; null uses AWS's public layer ARN."
  type        = string
  default     = null
}
