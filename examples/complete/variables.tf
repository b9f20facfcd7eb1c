variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "name" {
  description = "Prefix of every name in the stack."
  type        = string
  default     = "tatourney-demo"
}

variable "alarm_emails" {
  description = "Email addresses the alarms notify (through the SNS topic the stack creates)."
  type        = list(string)
  default     = []
}
