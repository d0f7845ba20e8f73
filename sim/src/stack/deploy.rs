//! Deployment through CloudFormation: package both functions as Lambda zips, upload them,
//! create or update the stack through a change set, wait, and report the outputs.
