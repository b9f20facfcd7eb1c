variable "name" {
  description = "Prefix of every name in the stack: a deployment of its own per name, so several can share one LocalStack."
  type        = string
  default     = "tatourney"
}

variable "create_network" {
  description = "Create the VPC, its DynamoDB gateway endpoint and the security groups (LocalStack accepts them; its functions run outside them)."
  type        = bool
  default     = true
}

variable "create_monitoring" {
  description = "Create the alarms, their SNS topic and KMS key, and the dashboard."
  type        = bool
  default     = true
}

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
  description = "host:port of a memcached the functions can reach: 127.0.0.1:<port> with host-mode LocalStack (its functions run on this host), host.docker.internal:<port> from the Docker image's Lambda containers."
  type        = list(string)
  default     = ["host.docker.internal:11211"]

  validation {
    condition     = length(var.cache_endpoints) > 0
    error_message = "cache_endpoints needs at least one host:port."
  }
}

variable "powertools_layer_arn" {
  description = "Powertools v3 layer ARN inside LocalStack; null uses AWS's public layer ARN (paid LocalStack editions only)."
  type        = string
  default     = null
}

variable "extra_cors_origins" {
  description = "Origins besides the site's that may call the leaderboard from a browser."
  type        = list(string)
  default     = ["http://localhost:4566"]

  validation {
    condition     = alltrue([for origin in var.extra_cors_origins : can(regex("^https?://[^/]+$", origin))])
    error_message = "extra_cors_origins must be origins such as http://localhost:4566 (scheme and host, no path)."
  }
}
