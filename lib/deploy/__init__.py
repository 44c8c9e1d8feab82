"""Deploy tooling: spark-submit arguments, frozen jars, the Thrift Server's catalog."""
