"""示例数据: invented enterprises of 苏州高新区 (`enterprises`), loaded through the department-feed
paths (`enterprise_loader`), demo logins (`accounts`) and sample applications (`applications`)."""
