# The whole stack on AWS with its defaults, except what a demo you will destroy should not keep.
# From the repository root: make package, then terraform init && terraform apply here.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project = "tatourney"
      Example = "complete"
    }
  }
}

module "tatourney" {
  source = "../../"

  name = var.name

  # Who the alarms wake (each address confirms the subscription by email).
  alarm_emails = var.alarm_emails

  # So terraform destroy removes the tables; keep the default (true) for a stack you keep.
  deletion_protection = false
}
