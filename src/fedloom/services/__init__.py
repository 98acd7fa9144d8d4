"""Use cases, one service class per concern (jobs, tables, tracking, models; party for the parties' side),
each built once by `platform.Platform` over only the parts it needs. The API calls nothing else."""
